// What one vCenter hub knows about its connection, for `status`, /healthz and the
// esxkit_vcenter_up gauge, and the log lines of an outage: one when vCenter stops
// answering, one when it answers again, and (aggregated over every BMC of that vCenter,
// at most every STALE_LOG_EVERY_MS) the power reads refused with 0xC3 meanwhile.
import type { Logger } from "../log/logger.ts";

export const STALE_LOG_EVERY_MS = 30_000;

/** One row of `status`' connections. */
export interface ConnectionStatus {
  kind: "vcenter" | "esxi";
  name: string;
  connected: boolean;
  /** Last time the endpoint answered (ISO). */
  last_sync?: string;
  last_error?: string;
  last_error_at?: string;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export class HubHealth {
  #lastOkAt?: number;
  #lastError?: { message: string; at: number };
  /** Set from the first error after an answer until the next answer. */
  #outageSince?: number;
  #stale?: { since: number; bmcs: Set<string>; reads: number; loggedAt: number };

  constructor(
    private readonly vcenter: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** vCenter answered (a watch round, a direct read, an inventory read). */
  ok(at = this.now()): void {
    if (this.#lastOkAt === undefined || at > this.#lastOkAt) this.#lastOkAt = at;
    if (this.#outageSince !== undefined) {
      this.logger.info("vCenter answers again", { vcenter: this.vcenter, down_for_s: seconds(this.now() - this.#outageSince) });
      this.#outageSince = undefined;
    }
  }

  /** A request to vCenter failed. */
  error(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#lastError = { message, at: this.now() };
    if (this.#outageSince === undefined) {
      this.#outageSince = this.now();
      this.logger.warn("vCenter does not answer; retrying", { vcenter: this.vcenter, error: message });
    }
  }

  /** A BMC's power state was too old to answer: that read is refused with 0xC3. */
  staleRead(bmc: string, lastSyncAt: number | undefined): void {
    const now = this.now();
    if (!this.#stale) {
      this.#stale = { since: now, bmcs: new Set([bmc]), reads: 1, loggedAt: now };
      this.logger.warn("power state is stale: power reads are refused (0xC3, timeout) until vCenter answers", {
        vcenter: this.vcenter,
        bmc,
        last_sync_age_s: lastSyncAt === undefined ? undefined : seconds(now - lastSyncAt),
        last_error: this.#lastError?.message,
      });
      return;
    }
    this.#stale.bmcs.add(bmc);
    this.#stale.reads++;
    if (now - this.#stale.loggedAt >= STALE_LOG_EVERY_MS) {
      this.logger.warn("power state still stale; refusing power reads", { vcenter: this.vcenter, stale_for_s: seconds(now - this.#stale.since), refused: this.#stale.reads, bmcs: this.#stale.bmcs.size });
      this.#stale.loggedAt = now;
    }
  }

  /** Power state is fresh again for this vCenter's BMCs. */
  fresh(): void {
    const s = this.#stale;
    if (!s) return;
    this.#stale = undefined;
    this.logger.info("power state fresh again; power reads are answered", { vcenter: this.vcenter, stale_for_s: seconds(this.now() - s.since), refused: s.reads, bmcs: s.bmcs.size });
  }

  get lastOkAt(): number | undefined {
    return this.#lastOkAt;
  }

  /** Connected: the last request succeeded and vCenter answered within `withinMs`. */
  snapshot(withinMs: number): ConnectionStatus {
    const now = this.now();
    const answered = this.#lastOkAt !== undefined && now - this.#lastOkAt <= withinMs;
    const errorAfter = this.#lastError !== undefined && (this.#lastOkAt === undefined || this.#lastError.at > this.#lastOkAt);
    const out: ConnectionStatus = { kind: "vcenter", name: this.vcenter, connected: answered && !errorAfter };
    if (this.#lastOkAt !== undefined) out.last_sync = new Date(this.#lastOkAt).toISOString();
    if (this.#lastError) {
      out.last_error = this.#lastError.message;
      out.last_error_at = new Date(this.#lastError.at).toISOString();
    }
    if (!out.connected && !out.last_error && this.#lastOkAt !== undefined) out.last_error = `no answer for ${seconds(now - this.#lastOkAt)} s`;
    return out;
  }
}
