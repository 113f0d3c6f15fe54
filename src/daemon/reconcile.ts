// Runs the configured BMCs, SLP entries and watchdogs as services, and reconciles them
// against a new config on reload: unchanged entries keep running (no dropped IPMI
// sessions), changed ones restart, removed ones stop, new ones start. A service that
// cannot start (a busy port, an address not up yet) stays in the set as down and is
// retried with backoff until it starts or the config drops it.
import type { Logger } from "../log/logger.ts";
import { DEFAULT_START_RETRY, type DownInfo, errorText, type RetryPolicy, StartRetry } from "./retry.ts";

export type ServiceKind = "bmc" | "redfish" | "console" | "slp" | "watchdog";

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Record<string, unknown>;
  /** Watchdogs: suspend actions for a while (undefined = until resumed). */
  pause?(ttlMs?: number): void;
  resume?(): void;
}

export interface PlannedService {
  kind: ServiceKind;
  name: string;
  /** Everything the service depends on (its entry plus referenced endpoints): a change restarts it. */
  fingerprint: string;
  /**
   * Starts once every service of a lower phase has had its first start (up, or down and
   * retrying); default 0. Redfish is 1: it serves the machines the BMC services register.
   */
  phase?: number;
  create(): Service;
}

interface Entry {
  planned: PlannedService;
  /** Created on the first attempt; kept across retries (start() is retried on the same object). */
  service?: Service;
  up: boolean;
  /** Set while the service is down and being retried. */
  retry?: StartRetry;
  /** The start attempt in flight, if any. */
  attempting?: Promise<void>;
  removed: boolean;
}

export interface ReconcileResult {
  started: string[];
  restarted: string[];
  stopped: string[];
  unchanged: string[];
  /** Services whose first start failed: they are down and being retried. */
  failed: Array<{ key: string; error: string }>;
}

export type ServiceStatus = { kind: ServiceKind; name: string; up: boolean; down?: DownInfo } & Record<string, unknown>;

export interface DownService {
  key: string;
  kind: ServiceKind;
  name: string;
  error: string;
}

export interface ServiceSetOptions {
  retry?: RetryPolicy;
  /** A service came up or went down outside apply() (a retry succeeded or failed anew). */
  onChange?: () => void;
}

/** Service starts in flight at once (see apply). */
const STARTS_IN_FLIGHT = 64;

const keyOf = (p: { kind: string; name: string }) => `${p.kind}:${p.name}`;

export class ServiceSet {
  private entries = new Map<string, Entry>();
  constructor(
    private readonly logger: Logger,
    private readonly opts: ServiceSetOptions = {},
  ) {}

  /** Brings the set in line with `plan`. A service that fails to start is reported and retried, not fatal. */
  async apply(plan: PlannedService[]): Promise<ReconcileResult> {
    const result: ReconcileResult = { started: [], restarted: [], stopped: [], unchanged: [], failed: [] };
    const wanted = new Map(plan.map((p) => [keyOf(p), p]));
    const changed = new Set<string>();
    // Stop removed and changed services first, so a changed one can rebind its port.
    for (const [key, e] of this.entries) {
      const next = wanted.get(key);
      if (next && next.fingerprint === e.planned.fingerprint) continue;
      await this.stopOne(key, e);
      if (next) changed.add(key);
      else result.stopped.push(key);
    }
    const toStart: Array<[string, Entry]> = [];
    for (const [key, p] of wanted) {
      if (this.entries.has(key)) {
        result.unchanged.push(key);
        continue;
      }
      const e: Entry = { planned: p, up: false, removed: false };
      this.entries.set(key, e);
      toStart.push([key, e]);
    }
    // Started STARTS_IN_FLIGHT at a time (each start is mostly waiting for a bind or a lookup:
    // thousands of BMCs would otherwise start one event-loop turn after another); results are
    // recorded in config order all the same. A failed start goes on retrying (attempt()).
    const phases = [...new Set(toStart.map(([, e]) => e.planned.phase ?? 0))].sort((a, b) => a - b);
    for (const phase of phases) {
      const batch = toStart.filter(([, e]) => (e.planned.phase ?? 0) === phase);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < batch.length; i = next++) {
          const [key, e] = batch[i] as [string, Entry];
          await this.attempt(key, e, false);
        }
      };
      await Promise.all(Array.from({ length: Math.min(STARTS_IN_FLIGHT, batch.length) }, worker));
    }
    for (const [key, e] of toStart) {
      if (e.up) (changed.has(key) ? result.restarted : result.started).push(key);
      else result.failed.push({ key, error: e.retry?.info().error ?? "not started" });
    }
    return result;
  }

  private attempt(key: string, e: Entry, notify = true): Promise<void> {
    const run = async () => {
      try {
        e.service ??= e.planned.create();
        await e.service.start();
      } catch (err) {
        if (e.removed) return;
        const retry = (e.retry ??= new StartRetry(this.opts.retry ?? DEFAULT_START_RETRY, (error, attempts) => {
          this.logger.error(attempts === 1 ? "service failed to start; retrying with backoff" : "service still cannot start; the error changed", { service: key, error, attempts });
        }));
        retry.failed(errorText(err), () => void this.attempt(key, e));
        if (notify && retry.attempts === 1) this.opts.onChange?.();
        return;
      }
      if (e.removed) {
        // Dropped from the config while this attempt ran.
        await e.service.stop().catch(() => undefined);
        return;
      }
      e.up = true;
      if (e.retry) {
        this.logger.info("service started after retrying", { service: key, attempts: e.retry.attempts + 1, down_since: e.retry.info().since });
        e.retry.cancel();
        e.retry = undefined;
        if (notify) this.opts.onChange?.();
      }
    };
    const p = run().finally(() => {
      if (e.attempting === p) e.attempting = undefined;
    });
    e.attempting = p;
    return p;
  }

  private async stopOne(key: string, e: Entry): Promise<void> {
    e.removed = true;
    e.retry?.cancel();
    await e.attempting;
    this.entries.delete(key);
    if (!e.service) return;
    try {
      await e.service.stop();
    } catch (err) {
      this.logger.warn("service did not stop cleanly", { service: key, error: err });
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.entries].map(([key, e]) => this.stopOne(key, e)));
  }

  status(): ServiceStatus[] {
    return [...this.entries.values()].map((e) => {
      let detail: Record<string, unknown> = {};
      try {
        detail = e.service?.status() ?? {};
      } catch {
        // a service that never started may not know its status
      }
      const down = e.up ? undefined : (e.retry?.info() ?? { error: "starting", since: new Date().toISOString(), attempts: 0, next_attempt_at: new Date().toISOString() });
      return { kind: e.planned.kind, name: e.planned.name, ...detail, up: e.up, ...(down ? { down } : {}) };
    });
  }

  /** Services that are not running (being retried), with their last error. */
  down(): DownService[] {
    return [...this.entries]
      .filter(([, e]) => !e.up)
      .map(([key, e]) => ({ key, kind: e.planned.kind, name: e.planned.name, error: e.retry?.info().error ?? "starting" }));
  }

  find(kind: ServiceKind, name?: string): Array<{ name: string; service: Service }> {
    return [...this.entries.values()]
      .filter((e) => e.service && e.planned.kind === kind && (name === undefined || e.planned.name === name))
      .map((e) => ({ name: e.planned.name, service: e.service as Service }));
  }

  get size(): number {
    return this.entries.size;
  }
}
