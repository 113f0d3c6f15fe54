// The IPv4 address, mask and gateway a BMC reports in LAN parameters 3, 6 and 12.
// vCenter DPM and `ipmitool lan print` expect sane values: the address a client reaches
// the BMC at. For a wildcard bind we pick the local interface on the peer's subnet.
import { readFileSync } from "node:fs";
import { ipv4Bytes, type LocalIPv4, listLocalIPv4, parseIpv4 } from "../net/ipv4.ts";

export interface LanAddress {
  ip: Uint8Array;
  mask: Uint8Array;
  gateway: Uint8Array;
}

const ZERO = 0;

/** Default gateways by interface name, from the route table (Linux); empty elsewhere. */
export function defaultGateways(routeTable?: string): Map<string, number> {
  const gateways = new Map<string, number>();
  let text = routeTable;
  if (text === undefined) {
    try {
      // /proc/self/net, not /proc/net: the unit's ProcSubset=pid hides everything but process directories.
      text = readFileSync("/proc/self/net/route", "utf8");
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
  const ifaces = listLocalIPv4();
  const bound = parseIpv4(bindAddress);
  let chosen: LocalIPv4 | undefined;
  if (bound !== undefined && bound !== ZERO) {
    chosen = ifaces.find((i) => i.ip === bound) ?? { ifname: "", address: bindAddress, ip: bound, mask: 0, internal: false };
  } else {
    const p = parseIpv4(peer);
    if (p !== undefined) chosen = ifaces.find((i) => ((i.ip ^ p) & i.mask) === 0 && i.mask !== 0);
    chosen ??= ifaces.find((i) => !i.internal) ?? ifaces[0];
  }
  if (!chosen) return { ip: ipv4Bytes(0), mask: ipv4Bytes(0), gateway: ipv4Bytes(0) };
  const gateway = chosen.ifname ? (defaultGateways().get(chosen.ifname) ?? 0) : 0;
  return { ip: ipv4Bytes(chosen.ip), mask: ipv4Bytes(chosen.mask), gateway: ipv4Bytes(gateway) };
}
