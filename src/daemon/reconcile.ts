// Runs the configured BMCs, SLP entries and watchdogs as services, and reconciles them
// against a new config on reload: unchanged entries keep running (no dropped IPMI
// sessions), changed ones restart, removed ones stop, new ones start.
import type { Logger } from "../log/logger.ts";

export type ServiceKind = "bmc" | "slp" | "watchdog";

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
  create(): Service;
}

interface Running {
  planned: PlannedService;
  service: Service;
}

export interface ReconcileResult {
  started: string[];
  restarted: string[];
  stopped: string[];
  unchanged: string[];
  failed: Array<{ key: string; error: string }>;
}

/** Service starts in flight at once (see apply). */
const STARTS_IN_FLIGHT = 64;

const keyOf = (p: { kind: string; name: string }) => `${p.kind}:${p.name}`;

export class ServiceSet {
  private running = new Map<string, Running>();
  constructor(private readonly logger: Logger) {}

  /** Brings the running set in line with `plan`. A service that fails to start is reported, not fatal. */
  async apply(plan: PlannedService[]): Promise<ReconcileResult> {
    const result: ReconcileResult = { started: [], restarted: [], stopped: [], unchanged: [], failed: [] };
    const wanted = new Map(plan.map((p) => [keyOf(p), p]));
    const changed = new Set<string>();
    // Stop removed and changed services first, so a changed one can rebind its port.
    for (const [key, r] of this.running) {
      const next = wanted.get(key);
      if (next && next.fingerprint === r.planned.fingerprint) continue;
      await this.stopOne(key, r);
      if (next) changed.add(key);
      else result.stopped.push(key);
    }
    const toStart: Array<[string, PlannedService]> = [];
    for (const [key, p] of wanted) {
      if (this.running.has(key)) result.unchanged.push(key);
      else toStart.push([key, p]);
    }
    // Started STARTS_IN_FLIGHT at a time (each start is mostly waiting for a bind or a lookup:
    // thousands of BMCs would otherwise start one event-loop turn after another); results are
    // recorded in config order all the same.
    const outcomes: Array<{ service: Service } | { error: unknown }> = new Array(toStart.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < toStart.length; i = next++) {
        const [, p] = toStart[i]!;
        try {
          const service = p.create();
          await service.start();
          outcomes[i] = { service };
        } catch (error) {
          outcomes[i] = { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STARTS_IN_FLIGHT, toStart.length) }, worker));
    toStart.forEach(([key, p], i) => {
      const o = outcomes[i]!;
      if ("service" in o) {
        this.running.set(key, { planned: p, service: o.service });
        (changed.has(key) ? result.restarted : result.started).push(key);
      } else {
        this.logger.error("service failed to start", { service: key, error: o.error });
        result.failed.push({ key, error: o.error instanceof Error ? o.error.message : String(o.error) });
      }
    });
    return result;
  }

  private async stopOne(key: string, r: Running): Promise<void> {
    try {
      await r.service.stop();
    } catch (err) {
      this.logger.warn("service did not stop cleanly", { service: key, error: err });
    }
    this.running.delete(key);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map(([key, r]) => this.stopOne(key, r)));
  }

  status(): Array<{ kind: ServiceKind; name: string } & Record<string, unknown>> {
    return [...this.running.values()].map((r) => ({ kind: r.planned.kind, name: r.planned.name, ...r.service.status() }));
  }

  find(kind: ServiceKind, name?: string): Array<{ name: string; service: Service }> {
    return [...this.running.values()]
      .filter((r) => r.planned.kind === kind && (name === undefined || r.planned.name === name))
      .map((r) => ({ name: r.planned.name, service: r.service }));
  }

  get size(): number {
    return this.running.size;
  }
}
