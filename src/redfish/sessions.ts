// Redfish sessions (SessionService/Sessions): 128-bit random tokens, an idle timeout, a cap
// on open sessions. Tokens are compared by their SHA-256 so a lookup leaks no timing.
import { createHash, randomBytes, randomUUID } from "node:crypto";

export interface Session {
  id: string;
  user: string;
  createdAt: number;
  lastUsedAt: number;
  source: string;
}

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

export class SessionStore {
  readonly #byHash = new Map<string, Session>();
  readonly #byId = new Map<string, string>();
  constructor(
    private readonly o: { idleTimeoutMs: number; max: number; now?: () => number },
  ) {}

  #now(): number {
    return this.o.now?.() ?? Date.now();
  }

  get timeoutSeconds(): number {
    return Math.round(this.o.idleTimeoutMs / 1000);
  }

  #sweep(): void {
    const cutoff = this.#now() - this.o.idleTimeoutMs;
    for (const [h, s] of this.#byHash) if (s.lastUsedAt < cutoff) this.#drop(h, s);
  }

  #drop(h: string, s: Session): void {
    this.#byHash.delete(h);
    this.#byId.delete(s.id);
  }

  /** undefined when the limit is reached. */
  create(user: string, source: string): { token: string; session: Session } | undefined {
    this.#sweep();
    if (this.#byHash.size >= this.o.max) return undefined;
    const token = randomBytes(16).toString("hex");
    const now = this.#now();
    const session = { id: randomUUID().replace(/-/g, ""), user, createdAt: now, lastUsedAt: now, source };
    const h = hash(token);
    this.#byHash.set(h, session);
    this.#byId.set(session.id, h);
    return { token, session };
  }

  /** The session of a token, refreshed; undefined when unknown or idle too long. */
  touch(token: string): Session | undefined {
    const h = hash(token);
    const s = this.#byHash.get(h);
    if (!s) return undefined;
    const now = this.#now();
    if (now - s.lastUsedAt > this.o.idleTimeoutMs) {
      this.#drop(h, s);
      return undefined;
    }
    s.lastUsedAt = now;
    return s;
  }

  get(id: string): Session | undefined {
    this.#sweep();
    const h = this.#byId.get(id);
    return h ? this.#byHash.get(h) : undefined;
  }

  delete(id: string): boolean {
    const h = this.#byId.get(id);
    const s = h ? this.#byHash.get(h) : undefined;
    if (!h || !s) return false;
    this.#drop(h, s);
    return true;
  }

  list(): Session[] {
    this.#sweep();
    return [...this.#byHash.values()];
  }

  get size(): number {
    this.#sweep();
    return this.#byHash.size;
  }

  clear(): void {
    this.#byHash.clear();
    this.#byId.clear();
  }
}
