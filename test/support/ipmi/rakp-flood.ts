// A raw RMCP+ client over UDP from a chosen loopback address (ipmitool cannot pick its
// source): Open Session + RAKP 1 as fast as the BMC answers, the way an attacker collects
// RAKP 2 codes to crack offline; or a whole login with a RAKP 3 for a guessed password.
// Every exchange has a deadline.
import { createSocket, type Socket } from "node:dgram";
import { PayloadType } from "../../../src/ipmi/codes/auth-types.ts";
import { random, rakp3AuthCode, rakpHash, userKey } from "../../../src/ipmi/crypto.ts";
import { sealRmcpPlusSessionless } from "../../../src/ipmi/secure.ts";
import { openSessionRequest, openSessionResponse } from "../../../src/ipmi/wire/open-session.ts";
import { packet } from "../../../src/ipmi/wire/packet.ts";
import { rakp1, rakp2, rakp3, rakp4, type Rakp2 } from "../../../src/ipmi/wire/rakp.ts";

export interface FloodResult {
  /** RAKP 2 replies that carried a key-exchange code (status 0). */
  codes: number;
  /** Refusals by RMCP+ status, Open Session or RAKP 2 (e.g. {1: 57}). */
  refused: Record<number, number>;
  /** Exchanges that got no answer in time. */
  silent: number;
}

const SUITE_17 = { auth: 3, integrity: 4, confidentiality: 1 };
const ROLE = 0x14; // administrator, name-only lookup

function exchange(sock: Socket, port: number, datagram: Uint8Array, type: number, timeoutMs: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.off("message", onMessage);
      resolve(undefined);
    }, timeoutMs);
    const onMessage = (m: Buffer) => {
      const p = packet.decode(new Uint8Array(m));
      if (p.kind !== "rmcp+" || p.session.payloadType !== type) return;
      clearTimeout(timer);
      sock.off("message", onMessage);
      resolve(p.session.payload);
    };
    sock.on("message", onMessage);
    sock.send(datagram, port, "127.0.0.1");
  });
}

async function withSocket<T>(fromAddress: string, fn: (sock: Socket) => Promise<T>): Promise<T> {
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, fromAddress, () => r()));
  try {
    return await fn(sock);
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
}

type Setup = { status: "silent" } | { status: number; stage: "open" | "rakp2" } | { status: 0; bmcId: number; consoleId: number; rm: Uint8Array; m2: Rakp2 };

/** Open Session, then RAKP 1 → RAKP 2. */
async function setup(sock: Socket, port: number, username: string, consoleId: number, timeoutMs: number): Promise<Setup> {
  const open = openSessionRequest.encode({
    messageTag: consoleId & 0xff,
    requestedMaxPrivilege: 4,
    remoteConsoleSessionId: consoleId,
    auth: { algorithm: SUITE_17.auth },
    integrity: { algorithm: SUITE_17.integrity },
    confidentiality: { algorithm: SUITE_17.confidentiality },
  });
  const o = await exchange(sock, port, sealRmcpPlusSessionless(PayloadType.openSessionRequest, open), PayloadType.openSessionResponse, timeoutMs);
  if (!o) return { status: "silent" };
  const or = openSessionResponse.decode(o);
  if (or.status !== 0) return { status: or.status, stage: "open" };
  const rm = random(16);
  const m1 = rakp1.encode({ messageTag: 1, managedSystemSessionId: or.managedSystemSessionId, consoleRandom: rm, role: ROLE, username: new TextEncoder().encode(username) });
  const r = await exchange(sock, port, sealRmcpPlusSessionless(PayloadType.rakp1, m1), PayloadType.rakp2, timeoutMs);
  if (!r) return { status: "silent" };
  const m2 = rakp2.decode(r);
  if (m2.status !== 0) return { status: m2.status, stage: "rakp2" };
  return { status: 0, bmcId: or.managedSystemSessionId, consoleId, rm, m2 };
}

/** `attempts` session setups as user `username` against 127.0.0.1:`port`, sent from `fromAddress`. */
export function rakpFlood(port: number, fromAddress: string, username: string, attempts: number, timeoutMs = 1000): Promise<FloodResult> {
  return withSocket(fromAddress, async (sock) => {
    const out: FloodResult = { codes: 0, refused: {}, silent: 0 };
    for (let i = 0; i < attempts; i++) {
      const s = await setup(sock, port, username, 0x1000 + i, timeoutMs);
      if (s.status === "silent") out.silent++;
      else if ("m2" in s && s.m2.keyExchangeAuthCode.length > 0) out.codes++;
      else out.refused[s.status] = (out.refused[s.status] ?? 0) + 1;
    }
    return out;
  });
}

/** One login with `password` (right or wrong), sending RAKP 3 without checking RAKP 2; the RAKP 4 status. */
export function rakpLogin(port: number, fromAddress: string, username: string, password: string, timeoutMs = 2000): Promise<number | "silent"> {
  return withSocket(fromAddress, async (sock) => {
    const s = await setup(sock, port, username, 0x7777, timeoutMs);
    if (!("m2" in s)) return s.status;
    const ctx = { consoleSessionId: s.consoleId, bmcSessionId: s.bmcId, consoleRandom: s.rm, bmcRandom: s.m2.bmcRandom, bmcGuid: s.m2.bmcGuid, role: ROLE, username: new TextEncoder().encode(username) };
    const code = rakp3AuthCode(rakpHash(SUITE_17.auth)!, userKey(password), ctx);
    const m3 = rakp3.encode({ messageTag: 2, status: 0, managedSystemSessionId: s.bmcId, keyExchangeAuthCode: code });
    const r = await exchange(sock, port, sealRmcpPlusSessionless(PayloadType.rakp3, m3), PayloadType.rakp4, timeoutMs);
    return r ? rakp4.decode(r).status : "silent";
  });
}
