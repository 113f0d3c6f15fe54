// ICMP echo in-process, through libc with bun:ffi (node:dgram has no ICMP sockets).
//
// Why not the system `ping`: under the unit (NoNewPrivileges, a bounding set without
// CAP_NET_RAW) Debian's ping — a file-capability binary — fails to exec with EPERM, and a probe
// that cannot run looked like an unreachable address. Here the socket is opened in esxkit's own
// process, with the privileges the unit gives it, and a socket that cannot be opened is an error
// naming why, never "unreachable".
//
// Two kinds of socket, tried in this order:
//   1. an unprivileged ICMP datagram socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)). Linux
//      allows it only to groups inside net.ipv4.ping_group_range, which is "1 0" (nobody) unless
//      systemd's 50-default.conf widened it — Debian does not ship that file;
//   2. a raw ICMP socket, which needs CAP_NET_RAW (the unit grants it as an ambient capability).
// A leaf (with libc.ts beside it).
import { ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { errno, loadLibc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW } from "./libc.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const EPERM = 1;
const EAGAIN = 11;
const EACCES = 13;

/** No ICMP socket can be opened by this process: the probe cannot run at all. */
export class IcmpUnavailableError extends Error {
  readonly code = "ESX_ICMP_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "IcmpUnavailableError";
  }
}

export type IcmpMethod = "datagram" | "raw";
type Family = 4 | 6;

interface OpenSocket {
  fd: number;
  method: IcmpMethod;
}

function pingGroupRange(): string {
  try {
    return readFileSync("/proc/sys/net/ipv4/ping_group_range", "utf8").trim().replace(/\s+/, "–");
  } catch {
    return "unknown";
  }
}

function openSocket(family: Family): OpenSocket {
  const c = loadLibc();
  const domain = family === 4 ? AF_INET : AF_INET6;
  const proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  const flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  const dgram = c.socket(domain, SOCK_DGRAM | flags, proto);
  if (dgram >= 0) return { fd: dgram, method: "datagram" };
  const dgramErr = errno(c);
  const raw = c.socket(domain, SOCK_RAW | flags, proto);
  if (raw >= 0) return { fd: raw, method: "raw" };
  const rawErr = errno(c);
  const why = (e: number) => (e === EACCES ? "EACCES" : e === EPERM ? "EPERM" : `errno ${e}`);
  throw new IcmpUnavailableError(
    `cannot open an ICMP${family === 6 ? "v6" : ""} socket: the datagram socket was refused (${why(dgramErr)}: gid ${process.getgid?.()} is outside net.ipv4.ping_group_range ${pingGroupRange()}) ` +
      `and the raw socket too (${why(rawErr)}: no CAP_NET_RAW). Grant CAP_NET_RAW (the unit's AmbientCapabilities and CapabilityBoundingSet), widen ping_group_range, or probe "IP:port" over TCP`,
  );
}

/** Can this process send ICMP echo requests, and how? Throws IcmpUnavailableError when not. */
export function icmpMethod(family: Family = 4): IcmpMethod {
  const s = openSocket(family);
  loadLibc().close(s.fd);
  return s.method;
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] as number) * 256 + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function sockaddr(address: string, family: Family): Uint8Array {
  if (family === 4) {
    const a = new Uint8Array(16);
    new DataView(a.buffer).setUint16(0, AF_INET, true);
    a.set(address.split(".").map(Number), 4);
    return a;
  }
  const a = new Uint8Array(28);
  new DataView(a.buffer).setUint16(0, AF_INET6, true);
  a.set(ipv6Bytes(address), 8);
  return a;
}

function ipv6Bytes(text: string): Uint8Array {
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const o = (v4[1] as string).split(".").map(Number);
    t = `${t.slice(0, v4.index)}${((o[0] as number) * 256 + (o[1] as number)).toString(16)}:${((o[2] as number) * 256 + (o[3] as number)).toString(16)}`;
  }
  const [head, tail] = t.includes("::") ? (t.split("::") as [string, string]) : [t, undefined];
  const h = head ? head.split(":") : [];
  const tl = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill("0"), ...tl];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => new DataView(out.buffer).setUint16(i * 2, Number.parseInt(g, 16)));
  return out;
}

let nextSeq = Math.floor(Math.random() * 0xffff);

export type EchoOutcome = "reply" | "timeout" | "unreachable";

/**
 * One ICMP echo to an IP literal, never longer than `timeoutMs`. "unreachable" when the kernel
 * refused to send (no route); throws IcmpUnavailableError when no socket can be opened.
 */
export async function icmpEcho(address: string, timeoutMs: number, signal?: AbortSignal): Promise<EchoOutcome> {
  const family: Family | undefined = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  const c = loadLibc();
  const s = openSocket(family);
  try {
    // A datagram socket's identifier is its kernel-assigned port and the kernel filters replies
    // for it; a raw socket sees every ICMP packet, so id, sequence and payload are checked.
    const id = (process.pid ^ 0x5a5a) & 0xffff;
    const seq = (nextSeq = (nextSeq + 1) & 0xffff);
    const token = crypto.getRandomValues(new Uint8Array(16));
    const pkt = new Uint8Array(8 + token.length);
    const dv = new DataView(pkt.buffer);
    pkt[0] = family === 4 ? 8 : 128; // echo request
    dv.setUint16(4, id);
    dv.setUint16(6, seq);
    pkt.set(token, 8);
    if (family === 4) dv.setUint16(2, checksum(pkt)); // the kernel fills in the ICMPv6 checksum
    const addr = sockaddr(address, family);
    if (Number(c.sendto(s.fd, ptr(pkt), pkt.length, 0, ptr(addr), addr.length)) < 0) {
      const e = errno(c);
      if (e === EPERM || e === EACCES) throw new IcmpUnavailableError(`sending an ICMP echo to ${address} was refused (errno ${e})`);
      return "unreachable";
    }
    const buf = new Uint8Array(2048);
    const end = performance.now() + timeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      for (;;) {
        const n = Number(c.recv(s.fd, ptr(buf), buf.length, 0));
        if (n < 0) {
          if (errno(c) !== EAGAIN) return "unreachable";
          break;
        }
        if (isOurReply(buf.subarray(0, n), s.method, family, id, seq, token)) return "reply";
      }
      if (signal?.aborted || performance.now() >= end) return "timeout";
      await Bun.sleep(Math.min(wait, Math.max(1, end - performance.now())));
    }
  } finally {
    c.close(s.fd);
  }
}

function isOurReply(b: Uint8Array, method: IcmpMethod, family: Family, id: number, seq: number, token: Uint8Array): boolean {
  // A raw IPv4 socket delivers the IP header too; ICMPv6 and datagram sockets do not.
  const off = method === "raw" && family === 4 ? ((b[0] ?? 0) & 0x0f) * 4 : 0;
  const icmp = b.subarray(off);
  if (icmp.length < 8 + token.length || icmp[0] !== (family === 4 ? 0 : 129)) return false;
  const dv = new DataView(icmp.buffer, icmp.byteOffset);
  if (dv.getUint16(6) !== seq || (method === "raw" && dv.getUint16(4) !== id)) return false;
  return token.every((x, i) => icmp[8 + i] === x);
}
