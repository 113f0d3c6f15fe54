// Failed logins are rate-limited per source address: after `burst` failures a source must
// wait, one more attempt earning back every `refillMs`. A success does not reset the count
// (a guesser who also knows one password gains nothing). Bounded memory: the oldest source
// is forgotten first.
export class LoginLimiter {
  readonly #failures = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly o: { burst: number; refillMs: number; maxSources?: number; now?: () => number }) {}

  #now(): number {
    return this.o.now?.() ?? Date.now();
  }

  #bucket(source: string): { tokens: number; at: number } {
    const now = this.#now();
    const b = this.#failures.get(source);
    if (!b) return { tokens: this.o.burst, at: now };
    const earned = Math.floor((now - b.at) / this.o.refillMs);
    return earned > 0 ? { tokens: Math.min(this.o.burst, b.tokens + earned), at: b.at + earned * this.o.refillMs } : b;
  }

  /** Seconds the source must wait before it may try again; 0 = it may try now. */
  retryAfter(source: string): number {
    const b = this.#bucket(source);
    if (b.tokens > 0) return 0;
    return Math.max(1, Math.ceil((b.at + this.o.refillMs - this.#now()) / 1000));
  }

  failed(source: string): void {
    const b = this.#bucket(source);
    this.#failures.delete(source);
    this.#failures.set(source, { tokens: Math.max(0, b.tokens - 1), at: b.tokens === this.o.burst ? this.#now() : b.at });
    const max = this.o.maxSources ?? 10_000;
    if (this.#failures.size > max) this.#failures.delete(this.#failures.keys().next().value as string);
  }
}
