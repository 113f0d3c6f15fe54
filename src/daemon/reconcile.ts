// Runs the configured BMCs, SLP entries and watchdogs as services, and reconciles them
// against a new config on reload: unchanged entries keep running (no dropped IPMI
// sessions), changed ones restart, removed ones stop, new ones start.
import type { Logger } from "../log/logger.ts";

export type ServiceKind = "bmc" | "redfish" | "slp" | "watchdog";

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
    for (const [key, p] of wanted) {
      if (this.running.has(key)) {
        result.unchanged.push(key);
        continue;
      }
      try {
        const service = p.create();
        await service.start();
        this.running.set(key, { planned: p, service });
        (changed.has(key) ? result.restarted : result.started).push(key);
      } catch (err) {
        this.logger.error("service failed to start", { service: key, error: err });
        result.failed.push({ key, error: err instanceof Error ? err.message : String(err) });
      }
    }
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
