// IPv4 helpers shared by the BMC (LAN parameters) and the SLP responder (previous-responder
// lists, interface choice, allowlists). A leaf: it imports nothing from the project.
import { networkInterfaces } from "node:os";

export { parseIpv4, plainIPv4 } from "./ip-literal.ts";
import { parseIpv4 } from "./ip-literal.ts";

/** A 32-bit address as 4 network-order bytes. */
export function ipv4Bytes(n: number): Uint8Array {
  return Uint8Array.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export interface LocalIPv4 {
  ifname: string;
  address: string;
  ip: number;
  mask: number;
  internal: boolean;
}

/** This host's IPv4 interface addresses. */
export function listLocalIPv4(): LocalIPv4[] {
  const out: LocalIPv4[] = [];
  for (const [ifname, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== "IPv4") continue;
      const ip = parseIpv4(a.address);
      const mask = parseIpv4(a.netmask);
      if (ip === undefined || mask === undefined) continue;
      out.push({ ifname, address: a.address, ip, mask, internal: a.internal });
    }
  }
  return out;
}
