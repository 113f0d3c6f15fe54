// Refused logins, logged so an operator sees them and a flood cannot drown the journal:
// the first failure of a quiet spell is logged at once (a mistyped password shows at info),
// the rest of the window is summed into one line with counts by reason and a few sample
// sources and user names. At most one line per window per BMC, whatever arrives.
// The window's timer exists only while a summary is pending.
import type { Logger } from "../../log/logger.ts";
import type { IpmiSource } from "./types.ts";

/**
 * Why a session setup was refused:
 *  wrong_password  RAKP 3 (or IPMI 1.5 Activate Session) did not prove the password, or the
 *                  console aborted because our RAKP 2 did not verify with its password;
 *  unknown_user    no such user name;
 *  privilege       the user may not hold the requested role;
 *  rate_limited    over the per-source or per-user session-setup limit;
 *  no_slot         every session slot holds an active session;
 *  abandoned       RAKP 2 went out and no RAKP 3 came back before the pending timeout:
 *                  how a wrong password usually ends, because ipmitool and freeipmi check
 *                  our RAKP 2 code with their password and give up without a word;
 *  protocol        malformed or out-of-order setup (unknown session id, bad role, no suite).
 */
export type LoginFailureReason = "wrong_password" | "unknown_user" | "privilege" | "rate_limited" | "no_slot" | "abandoned" | "protocol";

export interface LoginFailure {
  reason: LoginFailureReason;
  source: IpmiSource;
  user?: string;
}

export const FAILURE_LOG_WINDOW_MS = 60_000;
const HINTS: Partial<Record<LoginFailureReason, string>> = {
  abandoned: "the client never answered our RAKP 2: usually a wrong password (the client found our code does not match its password)",
  rate_limited: "over logins_per_minute_per_source or logins_per_minute_per_user",
};
const SAMPLES = 5;

interface Pending {
  total: number;
  reasons: Partial<Record<LoginFailureReason, number>>;
  sources: Set<string>;
  users: Set<string>;
}

export class LoginFailureLog {
  private lastLine = Number.NEGATIVE_INFINITY;
  private pending: Pending | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly logger: () => Logger,
    private readonly windowMs: () => number,
    private readonly now: () => number,
  ) {}

  record(f: LoginFailure): void {
    const now = this.now();
    const due = now - this.lastLine >= this.windowMs();
    if (this.pending && due) this.flush();
    else if (due) {
      this.lastLine = now;
      this.logger().info("IPMI login failed", { reason: f.reason, client: `${f.source.address}:${f.source.port}`, user: f.user, hint: HINTS[f.reason] });
      return;
    }
    const p = (this.pending ??= { total: 0, reasons: {}, sources: new Set(), users: new Set() });
    p.total++;
    p.reasons[f.reason] = (p.reasons[f.reason] ?? 0) + 1;
    if (p.sources.size < SAMPLES) p.sources.add(f.source.address);
    if (f.user !== undefined && p.users.size < SAMPLES) p.users.add(f.user);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastLine + this.windowMs() - now));
      this.timer.unref?.();
    }
  }

  /** Writes the pending summary line, if any (the window's timer, shutdown, tests). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.lastLine = this.now();
    const fields = { failures: p.total, window_s: Math.round(this.windowMs() / 1000), reasons: p.reasons, sources: [...p.sources], users: [...p.users] };
    // A flood that hit the limits is worth a warning; a few typos are not.
    if (p.reasons.rate_limited) this.logger().warn("IPMI login failures (rate limited)", fields);
    else this.logger().info("IPMI login failures", fields);
  }
}
