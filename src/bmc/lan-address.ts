// The IPv4 address, mask and gateway a BMC reports in LAN parameters 3, 6 and 12.
// vCenter DPM and `ipmitool lan print` expect sane values: the address a client reaches
// the BMC at. For a wildcard bind we pick the local interface on the peer's subnet.
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

export interface LanAddress {
  ip: Uint8Array;
  mask: Uint8Array;
  gateway: Uint8Array;
}

interface V4Interface {
  name: string;
  address: number;
  mask: number;
  internal: boolean;
}

const ZERO = 0;

export function parseIpv4(text: string): number | undefined {
  const t = text.startsWith("::ffff:") ? text.slice(7) : text;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function bytes(n: number): Uint8Array {
  return Uint8Array.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function ipv4Interfaces(): V4Interface[] {
  const out: V4Interface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== "IPv4") continue;
      const address = parseIpv4(a.address);
      const mask = parseIpv4(a.netmask);
      if (address === undefined || mask === undefined) continue;
      out.push({ name, address, mask, internal: a.internal });
    }
  }
  return out;
}

/** Default gateways by interface name, from /proc/net/route (Linux); empty elsewhere. */
export function defaultGateways(routeTable?: string): Map<string, number> {
  const gateways = new Map<string, number>();
  let text = routeTable;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/net/route", "utf8");
    } catch {
      return gateways;
    }
  }
  for (const line of text.split("\n").slice(1)) {
    const [iface, dest, gw, , , , , mask] = line.trim().split(/\s+/);
    if (!iface || dest !== "00000000" || mask !== "00000000" || !gw) continue;
    // The kernel prints the address in host (little-endian) byte order.
    const le = Number.parseInt(gw, 16);
    const addr = (((le & 0xff) << 24) | (((le >>> 8) & 0xff) << 16) | (((le >>> 16) & 0xff) << 8) | ((le >>> 24) & 0xff)) >>> 0;
    if (!gateways.has(iface)) gateways.set(iface, addr);
  }
  return gateways;
}

/**
 * bindAddress: what the BMC listens on ("0.0.0.0", "::", a literal). peer: the client's
 * address, used to choose an interface when the bind is a wildcard.
 */
export function lanAddressFor(bindAddress: string, peer: string): LanAddress {
  const ifaces = ipv4Interfaces();
  const bound = parseIpv4(bindAddress);
  let chosen: V4Interface | undefined;
  if (bound !== undefined && bound !== ZERO) {
    chosen = ifaces.find((i) => i.address === bound) ?? { name: "", address: bound, mask: 0, internal: false };
  } else {
    const p = parseIpv4(peer);
    if (p !== undefined) chosen = ifaces.find((i) => ((i.address ^ p) & i.mask) === 0 && i.mask !== 0);
    chosen ??= ifaces.find((i) => !i.internal) ?? ifaces[0];
  }
  if (!chosen) return { ip: bytes(0), mask: bytes(0), gateway: bytes(0) };
  const gateway = chosen.name ? (defaultGateways().get(chosen.name) ?? 0) : 0;
  return { ip: bytes(chosen.address), mask: bytes(chosen.mask), gateway: bytes(gateway) };
}
