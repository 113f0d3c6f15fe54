// Abuse limits for the responder: a token bucket per source address, a global cap on reply
// bytes per second (the bound on what a spoofed-source flood can reflect), and a short-lived
// reply cache keyed by (source, XID) so retransmissions are answered identically and cheaply.
// Every structure is bounded in size, whatever the sources an attacker forges.

export class SourceRateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly maxSources = 4096,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `source`; false when its bucket is empty. */
  take(source: string): boolean {
    const t = this.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.maxSources) this.evict(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSecond);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops full (idle) buckets first, then the oldest, so the map never grows past its cap. */
  private evict(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(k);
    }
    while (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value as string);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** A token bucket in bytes: at most `bytesPerSecond` on average, one second's worth in a burst. */
export class ByteRateCap {
  private tokens: number;
  private at: number;
  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = bytesPerSecond;
    this.at = now();
  }

  take(bytes: number): boolean {
    const t = this.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((t - this.at) / 1000) * this.bytesPerSecond);
    this.at = t;
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}

interface CachedReply {
  request: Uint8Array;
  reply: Uint8Array;
  expires: number;
}

/**
 * Replies per (source address, port, XID) for `ttlMs`; a retransmission with identical bytes gets the same reply.
 * Every entry lives the same `ttlMs` and a re-put moves its key to the back, so the Map's insertion
 * order is expiry order: expired entries are only ever at the front, and put() is O(1) amortised.
 */
export class ReplyCache {
  private map = new Map<string, CachedReply>();
  constructor(
    private readonly ttlMs = 15_000,
    private readonly maxEntries = 2048,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private key(address: string, port: number, xid: number): string {
    return `${address}|${port}|${xid}`;
  }

  get(address: string, port: number, xid: number, request: Uint8Array): Uint8Array | undefined {
    if (this.map.size === 0) return undefined;
    const k = this.key(address, port, xid);
    const c = this.map.get(k);
    if (!c) return undefined;
    if (c.expires < this.now()) {
      this.map.delete(k);
      return undefined;
    }
    return sameBytes(c.request, request) ? c.reply : undefined;
  }

  put(address: string, port: number, xid: number, request: Uint8Array, reply: Uint8Array): void {
    if (this.ttlMs <= 0) return;
    const t = this.now();
    const k = this.key(address, port, xid);
    this.map.delete(k);
    // Drop expired entries from the front (oldest first), then the oldest live one if still full.
    for (const [old, c] of this.map) {
      if (c.expires >= t && this.map.size < this.maxEntries) break;
      this.map.delete(old);
    }
    this.map.set(k, { request: new Uint8Array(request), reply, expires: t + this.ttlMs });
  }

  /** Forgets every reply (the served entries changed: a cached reply may name a stopped one). */
  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
