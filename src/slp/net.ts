// Host addresses for the responder: which IPv4 addresses are "us" (previous-responder
// lists), which configured interface a multicast request came through, and source
// allowlists (addresses or CIDRs).
import { listLocalIPv4 as listHostIPv4, parseIpv4, plainIPv4 } from "../net/ipv4.ts";

export { plainIPv4 };

/** The administratively scoped SLP group (RFC 2608 §6.1) and the SLP port. */
export const SLP_MULTICAST_GROUP = "239.255.255.253";
export const SLP_PORT = 427;

export interface LocalAddress {
  address: string;
  /** Network prefix as a 32-bit number, and its mask. */
  network: number;
  mask: number;
  ifname: string;
}

/** This host's IPv4 addresses with their networks. */
export function listLocalIPv4(): LocalAddress[] {
  return listHostIPv4().map((l) => ({ address: l.address, network: (l.ip & l.mask) >>> 0, mask: l.mask, ifname: l.ifname }));
}

/**
 * The set of this host's IPv4 addresses, refreshed at most every `ttlMs` (interfaces come
 * and go; a PRList check against a stale set would answer our own retransmissions).
 */
export class SelfAddresses {
  private set = new Set<string>();
  private locals: LocalAddress[] = [];
  private at = 0;
  constructor(
    private readonly extra: () => Iterable<string> = () => [],
    private readonly ttlMs = 10_000,
    private readonly list: () => LocalAddress[] = listLocalIPv4,
  ) {}

  private refresh(): void {
    const now = Date.now();
    if (now - this.at < this.ttlMs && this.at !== 0) return;
    this.locals = this.list();
    this.set = new Set(this.locals.map((l) => l.address));
    for (const a of this.extra()) this.set.add(a);
    this.at = now;
  }

  has(address: string): boolean {
    this.refresh();
    return this.set.has(address);
  }

  all(): LocalAddress[] {
    this.refresh();
    return this.locals;
  }

  invalidate(): void {
    this.at = 0;
  }
}

/** A compiled allowlist of IPv4 addresses and CIDRs; an empty list allows everyone. */
export class Allowlist {
  private nets: { network: number; mask: number }[] = [];
  readonly empty: boolean;
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [addr, bits] = e.trim().split("/");
      const ip = parseIpv4(addr ?? "");
      const prefix = bits === undefined ? 32 : Number(bits);
      if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
        throw new RangeError(`allow: ${JSON.stringify(e)} is not an IPv4 address or CIDR`);
      }
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      this.nets.push({ network: (ip & mask) >>> 0, mask });
    }
    this.empty = this.nets.length === 0;
  }

  allows(address: string): boolean {
    if (this.empty) return true;
    const ip = parseIpv4(address);
    if (ip === undefined) return false;
    return this.nets.some((n) => ((ip & n.mask) >>> 0) === n.network);
  }
}

/** The configured interface address whose subnet holds `source`, if any. */
export function interfaceForSource(source: string, candidates: readonly string[], locals: readonly LocalAddress[]): string | undefined {
  const ip = parseIpv4(source);
  if (ip === undefined) return undefined;
  if (candidates.includes(source)) return source;
  for (const c of candidates) {
    const l = locals.find((x) => x.address === c);
    if (l && ((ip & l.mask) >>> 0) === l.network) return c;
  }
  return undefined;
}
