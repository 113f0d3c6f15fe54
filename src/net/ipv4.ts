// IPv4 helpers shared by the BMC (LAN parameters) and the SLP responder (previous-responder
// lists, interface choice, allowlists). A leaf: it imports nothing from the project.
import { networkInterfaces } from "node:os";

/** "10.0.0.1" (or "::ffff:10.0.0.1", as dual-stack sockets report IPv4 peers) → 32-bit number. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(plainIPv4(text));
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n >>> 0;
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; anything else unchanged. */
export function plainIPv4(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

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
