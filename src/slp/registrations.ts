// The responder's registration table: what each [[slp]] entry sharing the responder
// contributes, which of them a request may see, and the limits they agree on.
import type { ServiceEntry } from "./entries.ts";
import type { Allowlist } from "./net.ts";
import type { Outcome } from "./outcome.ts";

export interface RegistrationStats {
  requests: number;
  replies: number;
  drops: number;
  /** Wall-clock ms of the latest request (a number: no Date per packet). */
  lastRequestMs?: number;
}

/** What one [[slp]] entry contributes to a responder. */
export interface Registration {
  id: string;
  entries: ServiceEntry[];
  /** IPv4 addresses to serve on (already resolved; never empty). */
  interfaces: string[];
  allow: Allowlist;
  tcp: boolean;
  ratePerSource: number;
  rateBurst: number;
  replyBytesPerSecond: number;
  stats: RegistrationStats;
}

export interface SharedLimits {
  ratePerSource: number;
  rateBurst: number;
  replyBytesPerSecond: number;
}

export class RegistrationTable {
  private readonly regs = new Map<string, Registration>();
  /** visible() per local address and transport, while no entry has an allowlist (then the source does not matter). */
  private readonly visibleByLocal = new Map<string, { regs: Registration[]; served: boolean }>();
  private anyAllowlist = false;

  get size(): number {
    return this.regs.size;
  }

  set(r: Registration): void {
    this.regs.set(r.id, r);
    this.changed();
  }

  delete(id: string): void {
    this.regs.delete(id);
    this.changed();
  }

  private changed(): void {
    this.visibleByLocal.clear();
    this.anyAllowlist = [...this.regs.values()].some((r) => !r.allow.empty);
  }

  /** The addresses to serve on, and those of them that also take TCP. */
  wantedAddresses(): { udp: Set<string>; tcp: Set<string> } {
    const udp = new Set<string>();
    const tcp = new Set<string>();
    for (const r of this.regs.values()) {
      for (const a of r.interfaces) {
        udp.add(a);
        if (r.tcp) tcp.add(a);
      }
    }
    return { udp, tcp };
  }

  /** The strictest limits any sharing entry asks for; undefined when there are no entries. */
  strictestLimits(): SharedLimits | undefined {
    const rs = [...this.regs.values()];
    if (rs.length === 0) return undefined;
    return {
      ratePerSource: Math.min(...rs.map((r) => r.ratePerSource)),
      rateBurst: Math.min(...rs.map((r) => r.rateBurst)),
      replyBytesPerSecond: Math.min(...rs.map((r) => r.replyBytesPerSecond)),
    };
  }

  /** Registrations that serve `local` (over TCP: with tcp on) and allow `source`; `served` false when none serve `local`. */
  visible(local: string, source: string, tcp = false): { regs: readonly Registration[]; served: boolean } {
    if (this.anyAllowlist) return this.scan(local, source, tcp);
    const k = tcp ? `tcp|${local}` : local;
    let v = this.visibleByLocal.get(k);
    if (!v) {
      // Bounded: only addresses that have a socket of ours reach here.
      v = this.scan(local, source, tcp);
      this.visibleByLocal.set(k, v);
    }
    return v;
  }

  private scan(local: string, source: string, tcp: boolean): { regs: Registration[]; served: boolean } {
    const regs: Registration[] = [];
    let served = false;
    for (const r of this.regs.values()) {
      if (!r.interfaces.includes(local) || (tcp && !r.tcp)) continue;
      served = true;
      if (r.allow.allows(source)) regs.push(r);
    }
    return { regs, served };
  }
}

/** The registrations whose entries went into a reply (all of them for a reply naming no entry). */
export function contributors(regs: readonly Registration[], outcome: Outcome & { kind: "reply" }): readonly Registration[] {
  if (outcome.entries.length === 0 || regs.length === 1) return regs;
  return regs.filter((r) => r.entries.some((e) => outcome.entries.includes(e)));
}
