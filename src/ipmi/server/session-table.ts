// The session table of one engine: pending (Open Session / Get Session Challenge seen,
// not yet authenticated) and active sessions, with a cap and idle expiry. Expiry is
// lazy (checked on use), so an engine costs no timers: 500 BMCs, 0 timers.
import type { CipherSuite } from "../codes/cipher-suites.ts";
import { random } from "../crypto.ts";
import type { RakpContext, SessionKeys } from "../crypto.ts";
import { ResponseCache } from "./response-cache.ts";
import { SequenceWindow } from "./sequence-window.ts";
import type { IpmiSource, IpmiUser } from "./types.ts";

/** How long an unauthenticated session may wait for its next RAKP / Activate step. */
export const PENDING_TIMEOUT_MS = 10_000;

interface SessionBase {
  /** BMC (managed system) session id; never 0. */
  id: number;
  source: IpmiSource;
  createdAt: number;
  lastActivity: number;
  user?: IpmiUser;
  /** The session's privilege limit. */
  maxPrivilege: number;
  /** The current operating privilege. */
  privilege: number;
  window: SequenceWindow;
  cache: ResponseCache;
  outboundSeq: number;
}

export interface RmcpPlusSessionState extends SessionBase {
  kind: "rmcp+";
  state: "opened" | "rakp2-sent" | "active";
  consoleId: number;
  suite: CipherSuite;
  /** The max privilege granted in the Open Session Response. */
  openMaxPrivilege: number;
  /** The Open Session Response payload, resent on a retransmitted Open Session Request. */
  openResponse?: Uint8Array;
  rakp?: RakpContext;
  keys?: SessionKeys;
}

export interface Ipmi15SessionState extends SessionBase {
  kind: "ipmi15";
  state: "challenge" | "active";
  authType: number;
  challenge: Uint8Array;
  pw16?: Uint8Array;
}

export type SessionState = RmcpPlusSessionState | Ipmi15SessionState;

export class SessionTable {
  private sessions = new Map<number, SessionState>();

  constructor(
    public maxSessions: number,
    public idleTimeoutMs: number,
    /** Told of every session that leaves the table, whatever the reason (SOL lets go of it). */
    private onRemove?: (s: SessionState) => void,
  ) {}

  get(id: number): SessionState | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  values(): IterableIterator<SessionState> {
    return this.sessions.values();
  }

  /** A fresh, unused, non-zero session id. */
  newId(): number {
    for (;;) {
      const b = random(4);
      const id = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
      if (id !== 0 && !this.sessions.has(id)) return id;
    }
  }

  isExpired(s: SessionState, now: number): boolean {
    const limit = s.state === "active" ? this.idleTimeoutMs : Math.min(PENDING_TIMEOUT_MS, this.idleTimeoutMs);
    return now - s.lastActivity > limit;
  }

  /** Removes expired sessions; returns how many. */
  expire(now: number, onExpired?: (s: SessionState) => void): number {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (this.isExpired(s, now)) {
        this.sessions.delete(id);
        onExpired?.(s);
        this.onRemove?.(s);
        n++;
      }
    }
    return n;
  }

  /**
   * Makes room for one more session: when full, the oldest pending session gives way
   * (a flood of unauthenticated Open Session requests must not lock out real users).
   * Returns false when every slot holds an active session.
   */
  makeRoom(): boolean {
    if (this.sessions.size < this.maxSessions) return true;
    let oldest: SessionState | undefined;
    for (const s of this.sessions.values()) {
      if (s.state !== "active" && (!oldest || s.lastActivity < oldest.lastActivity)) oldest = s;
    }
    if (!oldest) return false;
    this.sessions.delete(oldest.id);
    this.onRemove?.(oldest);
    return this.sessions.size < this.maxSessions;
  }

  add(s: SessionState): void {
    this.sessions.set(s.id, s);
  }

  delete(id: number): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    this.onRemove?.(s);
    return true;
  }

  clear(): void {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) this.onRemove?.(s);
  }

  static base(id: number, source: IpmiSource, now: number, expectedFirstSeq?: number): SessionBase {
    return {
      id,
      source,
      createdAt: now,
      lastActivity: now,
      maxPrivilege: 0,
      privilege: 0,
      window: new SequenceWindow(expectedFirstSeq),
      cache: new ResponseCache(),
      outboundSeq: 0,
    };
  }
}
