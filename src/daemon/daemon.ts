// `esxkit serve`: one process, one event loop, every configured service.
// SIGHUP re-reads the config and reconciles; a broken new config is logged and the old one
// stays in force. SIGTERM/SIGINT stop everything within a bound.
import { loadServiceConfig } from "./config-checks.ts";
import type { ConsoleRegistry } from "../bmc/console/registry.ts";
import type { ConnectionStatus } from "../bmc/hub-health.ts";
import type { Config } from "../config/types.ts";
import { problemLines, shownProblems } from "../config/report.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { type DownService, type PlannedService, type ReconcileResult, ServiceSet } from "./reconcile.ts";

export const SHUTDOWN_BOUND_MS = 5000;

export interface DaemonHooks {
  /** Turns a config into the services it asks for. */
  plan(config: Config, logger: Logger): PlannedService[];
  /** Called after every successful (re)load, e.g. to update the control API or sd_notify STATUS. */
  onApplied?(config: Config, result: ReconcileResult): void | Promise<void>;
  /** A reload starts (SIGHUP or the control API): e.g. RELOADING=1 to systemd. */
  onReloading?(): void;
  /** A reload was rejected; the previous config stays in force. */
  onReloadRejected?(): void;
  /** Extra things to close on shutdown (shared vCenter sessions, control socket, metrics). */
  onStop?(): Promise<void>;
  /** A service came up or went down between reloads (a start retry succeeded, or a new error). */
  onServicesChanged?(): void;
  /** The vCenter connections the services share (for status, /healthz and metrics). */
  connections?(): ConnectionStatus[];
  /** The serial consoles of the BMCs with serial = true (`esxkit console`). */
  consoles?(): ConsoleRegistry;
}

export class Daemon {
  readonly services: ServiceSet;
  private current: Config | undefined;
  private reloading: Promise<ReconcileResult | undefined> | undefined;
  /** `problems`: a rejected config's problems as shown (capped), `problem_count` all of them. */
  lastReload: { at: string; ok: boolean; error?: string; problems?: string[]; problem_count?: number } | undefined;

  constructor(
    private readonly configPath: string,
    private readonly logger: Logger,
    private readonly hooks: DaemonHooks,
  ) {
    this.services = new ServiceSet(logger.child("daemon"), { onChange: () => hooks.onServicesChanged?.() });
  }

  /** Services that are not running now (each is being retried). */
  get failed(): DownService[] {
    return this.services.down();
  }

  connections(): ConnectionStatus[] {
    return this.hooks.connections?.() ?? [];
  }

  consoles(): ConsoleRegistry | undefined {
    return this.hooks.consoles?.();
  }

  get config(): Config | undefined {
    return this.current;
  }

  /** Loads the config and starts every service. Throws ConfigError if the first config is invalid. */
  async start(config?: Config): Promise<ReconcileResult> {
    const c = config ?? loadServiceConfig(this.configPath);
    for (const w of c.warnings) this.logger.warn(w);
    return this.applyConfig(c);
  }

  private async applyConfig(config: Config): Promise<ReconcileResult> {
    const result = await this.services.apply(this.hooks.plan(config, this.logger));
    this.current = config;
    this.logger.info("configuration applied", {
      file: config.file,
      started: result.started.length,
      restarted: result.restarted.length,
      stopped: result.stopped.length,
      unchanged: result.unchanged.length,
      failed: result.failed.length,
    });
    await this.hooks.onApplied?.(config, result);
    return result;
  }

  /** Re-reads the config file. On error the old config stays in force and the error is logged. */
  reload(): Promise<ReconcileResult | undefined> {
    // Reloads are serialised: a SIGHUP during a reload waits for the first to finish.
    const run = async () => {
      this.hooks.onReloading?.();
      let next: Config;
      try {
        next = loadServiceConfig(this.configPath);
      } catch (err) {
        // Capped: a file with thousands of problems must not become a megabyte log line.
        const shown = err instanceof ConfigError ? shownProblems(err) : { shown: [String(err)], total: 1 };
        const problems = problemLines(shown);
        this.logger.error("reload rejected: the new config is invalid; keeping the running one", { problems });
        this.lastReload = { at: new Date().toISOString(), ok: false, error: problems.join("\n"), problems: shown.shown, problem_count: shown.total };
        this.hooks.onReloadRejected?.();
        return undefined;
      }
      for (const w of next.warnings) this.logger.warn(w);
      const result = await this.applyConfig(next);
      this.lastReload = { at: new Date().toISOString(), ok: result.failed.length === 0, error: result.failed.length ? result.failed.map((f) => `${f.key}: ${f.error}`).join("\n") : undefined };
      return result;
    };
    const p = (this.reloading ?? Promise.resolve(undefined)).then(run, run);
    this.reloading = p;
    return p;
  }

  /** Stops every service; resolves within SHUTDOWN_BOUND_MS even if a service hangs. */
  async stop(): Promise<void> {
    const work = (async () => {
      await this.services.stopAll();
      await this.hooks.onStop?.();
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn("shutdown bound reached; exiting with services still stopping", { bound_ms: SHUTDOWN_BOUND_MS });
        resolve();
      }, SHUTDOWN_BOUND_MS);
    });
    await Promise.race([work, bound]);
    clearTimeout(timer);
  }
}
