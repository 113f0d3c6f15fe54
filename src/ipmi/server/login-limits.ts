// Session-setup rate limits: token buckets keyed by source address and by user name.
// Each RAKP 2 that carries a key-exchange code is an offline-crackable HMAC of the
// password, so how many of them one source, or all sources together for one user, can
// collect per minute is bounded. The source limit is the tighter one: a flood from one
// address runs dry on it before it drains the user's bucket, so the same user logging in
// from elsewhere still gets in.

/** Session setups a minute (sustained), with bursts of a third of that. */
export interface LoginLimits {
  perSourcePerMinute: number;
  perUserPerMinute: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perSourcePerMinute: 120, perUserPerMinute: 240 };

/** At most this many source addresses are tracked per BMC; memory stays bounded under spoofed floods. */
export const MAX_TRACKED_SOURCES = 4096;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly burst: number,
    perMinute: number,
    readonly maxKeys: number,
  ) {
    this.perMs = perMinute / 60_000;
  }

  private level(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.perMs);
    b.at = now;
    // Re-inserted so the map's order is least recently used first (what prune drops).
    this.buckets.delete(key);
    this.buckets.set(key, b);
    return b;
  }

  /** Whether `key` has a token left, without spending it. */
  has(key: string, now: number): boolean {
    return this.level(key, now).tokens >= 1;
  }

  /** Spends one token of `key`; false (nothing spent) when its bucket is empty. */
  take(key: string, now: number): boolean {
    const b = this.level(key, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Full buckets carry no state worth keeping; if too few are full, the least recently used
   * eighth goes, so a flood of new addresses pays for one scan per maxKeys/8 of them.
   */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
    }
    const target = this.maxKeys - Math.max(1, this.maxKeys >> 3);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(k);
    }
  }
}

export class LoginLimiter {
  readonly sources: TokenBuckets;
  readonly users: TokenBuckets;

  constructor(limits: LoginLimits) {
    this.sources = new TokenBuckets(burstOf(limits.perSourcePerMinute), limits.perSourcePerMinute, MAX_TRACKED_SOURCES);
    // Keyed by configured user names only (unknown names get no RAKP 2 code), so small.
    this.users = new TokenBuckets(burstOf(limits.perUserPerMinute), limits.perUserPerMinute, MAX_TRACKED_SOURCES);
  }
}

function burstOf(perMinute: number): number {
  return Math.max(1, Math.ceil(perMinute / 3));
}
