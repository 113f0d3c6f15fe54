// One [[watchdog]] entry as a daemon service: probe rounds on a timer, hysteresis, the
// decision (state-machine.ts), and the actions it calls for — fence, fail over, clean up the
// stale copy — with the state persisted before each step so a restart resumes, never repeats.
import { randomUUID } from "node:crypto";
import type { EndpointConfig, EsxiConfig, WatchdogConfig } from "../config/types.ts";
import { FailoverError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { metrics as defaultMetrics, type MetricsRegistry } from "../log/metrics.ts";
import { Aftercare } from "./aftercare.ts";
import { type FailoverRecord, planPlacement, runFailover, scanCopies, targetChosenEvent } from "./failover.ts";
import { defaultSleep, fenceHost, type OpenChassis } from "./fence.ts";
import { HostClients } from "./hosts.ts";
import { type HealthCounter, initialHealth, observeProbe } from "./hysteresis.ts";
import { ipmiChassisOpener } from "./ipmi-chassis.ts";
import { journalPath } from "./journal.ts";
import { Learner } from "./learner.ts";
import { Notifier, type WatchdogEvent } from "./notify.ts";
import { clearPause, type PauseInfo, readPause, writePause } from "./pause.ts";
import { loadState, type PersistedState, saveState } from "./persist.ts";
import { isIsolated, validateIsolationAddresses } from "./probe.ts";
import { type Probes, probeRound, type RoundResult, realProbes } from "./round.ts";
import { checkSafety, pruneHistory } from "./safety.ts";
import { ALERT_STATES, type Decision, decide, type HeldReason, WATCHDOG_STATES, type WatchdogState } from "./state-machine.ts";

/** Wait before retrying a fence or failover that failed. */
export const RETRY_BACKOFF_MS = 30_000;

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: defaultSleep };

export interface WatchdogDeps {
  esxi: Record<string, EsxiConfig>;
  logger: Logger;
  stateDir: string;
  clock?: Clock;
  /** Opens IPMI sessions to physical BMCs (default: esxkit's RMCP+ client). */
  openChassis?: OpenChassis;
  /** Probe implementations (tests). */
  probes?: Probes;
  /** A vCenter to post events to once it answers again (often the protected VM itself). */
  vcenter?: EndpointConfig;
  metrics?: MetricsRegistry;
  /** Full re-learn interval. Default max(30 s, 15 probe intervals). */
  refreshIntervalMs?: number;
}

export interface WatchdogStatus {
  name: string;
  vm: string;
  state: WatchdogState;
  /** The host the VM runs on, as far as esxkit knows. */
  host?: string;
  lastTransition: string;
  paused: boolean;
  pausedUntil?: string;
  pauseReason?: string;
  held?: HeldReason;
  reason?: string;
  dryRun: boolean;
  hosts: Record<string, HealthCounter>;
  failover?: FailoverRecord;
  staleCopies: string[];
  learnedAt?: string;
  /** Probe rounds completed since start. */
  rounds: number;
}

export interface WatchdogService {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): WatchdogStatus;
  /** Pause for `ttlMs` (undefined: until resume()). Persisted as the watchdog's pause file. */
  pause(ttlMs?: number, reason?: string): PauseInfo;
  resume(): PauseInfo;
}

export function createWatchdogService(cfg: WatchdogConfig, deps: WatchdogDeps): WatchdogService {
  return new Watchdog(cfg, deps);
}

class Watchdog implements WatchdogService {
  readonly #cfg: WatchdogConfig;
  readonly #deps: WatchdogDeps;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #clients: HostClients;
  readonly #notifier: Notifier;
  readonly #probes: Probes;
  readonly #metrics: MetricsRegistry;
  readonly #learner: Learner;
  readonly #aftercare: Aftercare;
  #st: PersistedState;
  #health: Record<string, HealthCounter> = {};
  #lastRound: RoundResult | undefined;
  #decision: Decision | undefined;
  #pause: PauseInfo = { paused: false };
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #busy = false;
  /** Bumped whenever a failover starts or ends: a learn begun in another epoch is discarded. */
  #epoch = 0;
  #rounds = 0;
  #planning: Promise<void> | undefined;
  #alerted = new Set<string>();

  constructor(cfg: WatchdogConfig, deps: WatchdogDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger.child("watchdog", { watchdog: cfg.name });
    this.#clients = new HostClients(deps.esxi, this.#log);
    this.#probes = deps.probes ?? realProbes;
    this.#metrics = deps.metrics ?? defaultMetrics;
    this.#notifier = new Notifier({
      watchdog: cfg.name,
      vm: cfg.vm,
      dryRun: cfg.dry_run,
      logger: this.#log,
      journal: journalPath(deps.stateDir),
      webhook: cfg.webhook,
      command: cfg.command,
      now: () => this.#clock.now(),
    });
    for (const h of cfg.hosts) this.#health[h] = initialHealth();
    this.#st = loadState(deps.stateDir, cfg.name, this.#clock.now());
    const now = () => this.#clock.now();
    const emit = (ev: WatchdogEvent) => this.#emit(ev);
    const alertOnce = (key: string, ev: WatchdogEvent) => this.#alertOnce(key, ev);
    this.#learner = new Learner({
      cfg,
      clients: this.#clients,
      log: this.#log,
      stateDir: deps.stateDir,
      now,
      emit,
      alertOnce,
      clearAlert: (key) => this.#alerted.delete(key),
      refreshMs: deps.refreshIntervalMs ?? Math.max(30_000, 15 * cfg.probe_interval_ms),
    });
    this.#aftercare = new Aftercare({ clients: this.#clients, log: this.#log, vcenter: deps.vcenter, state: () => this.#st, persist: () => this.#persistState(), emit, alertOnce, now, postRetryMs: Math.max(2000, 5 * cfg.probe_interval_ms) });
  }

  get #learned() {
    return this.#learner.learned;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.#loop) return;
    validateIsolationAddresses(this.#cfg.isolation_addresses);
    for (const h of this.#cfg.hosts) {
      if (!this.#deps.esxi[h]) throw new Error(`watchdog ${this.#cfg.name}: no [esxi.${h}] endpoint`);
    }
    this.#abort = new AbortController();
    this.#pause = readPause(this.#deps.stateDir, this.#cfg.name, this.#clock.now());
    this.#setStateMetric();
    const resumed = this.#st.failover ? { failover: this.#st.failover } : {};
    this.#emit({ kind: "started", severity: "info", message: `watching VM ${this.#cfg.vm} on ${this.#cfg.hosts.join(", ")}${this.#cfg.dry_run ? " (dry run)" : ""}`, fields: { host: this.#learned?.host, state: this.#st.state, ...resumed } });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error("watchdog stopped"));
    await this.#loop?.catch(() => undefined);
    this.#loop = undefined;
    await this.#learner.stop();
    await this.#aftercare.stop();
    await this.#planning;
    await this.#clients.closeAll(new Set(this.#cfg.hosts.filter((h) => this.#lastRound?.answered[h])));
    await this.#notifier.flush();
  }

  status(): WatchdogStatus {
    return {
      name: this.#cfg.name,
      vm: this.#cfg.vm,
      state: this.#st.state,
      host: this.#learned?.host,
      lastTransition: this.#st.lastTransition,
      paused: this.#pause.paused,
      pausedUntil: this.#pause.until === undefined ? undefined : new Date(this.#pause.until).toISOString(),
      pauseReason: this.#pause.reason,
      held: this.#decision?.held,
      reason: this.#decision?.reason,
      dryRun: this.#cfg.dry_run,
      hosts: structuredClone(this.#health),
      failover: this.#st.failover,
      staleCopies: this.#st.stale.map((s) => s.host),
      learnedAt: this.#learned?.learnedAt,
      rounds: this.#rounds,
    };
  }

  pause(ttlMs?: number, reason?: string): PauseInfo {
    this.#pause = writePause(this.#deps.stateDir, this.#cfg.name, this.#clock.now(), ttlMs, reason);
    this.#emit({ kind: "paused", severity: "info", message: ttlMs === undefined ? "paused until resumed" : `paused for ${Math.round(ttlMs / 1000)} s`, fields: { until: this.status().pausedUntil, reason } });
    return this.#pause;
  }

  resume(): PauseInfo {
    clearPause(this.#deps.stateDir, this.#cfg.name);
    this.#pause = readPause(this.#deps.stateDir, this.#cfg.name, this.#clock.now());
    this.#emit({ kind: "resumed", severity: "info", message: this.#pause.paused ? `resumed, but still paused by ${this.#pause.file}` : "resumed" });
    return this.#pause;
  }

  // ------------------------------------------------------------------ loop

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const t0 = this.#clock.now();
      try {
        await this.#tick(signal);
      } catch (err) {
        if (!signal.aborted) this.#log.error("watchdog round failed", { error: err });
      }
      const wait = Math.max(0, this.#cfg.probe_interval_ms - (this.#clock.now() - t0));
      await this.#clock.sleep(wait, signal).catch(() => undefined);
    }
  }

  async #tick(signal: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    this.#pause = readPause(this.#deps.stateDir, this.#cfg.name, now, (file) => this.#emit({ kind: "resumed", severity: "info", message: `the pause in ${file} expired` }));

    const round = await probeRound(this.#cfg, this.#deps.esxi, this.#probes, signal);
    if (signal.aborted) return;
    this.#lastRound = round;
    this.#rounds++;
    this.#observe(round);

    if (!this.#busy && this.#learner.due) {
      const epoch = this.#epoch;
      this.#learner.start(
        this.#cfg.hosts.filter((h) => round.answered[h]),
        () => epoch === this.#epoch && !this.#busy,
      );
    }
    const learned = this.#learned;
    if (learned && !this.#busy && !this.#cfg.dry_run && this.#st.stale.length) this.#aftercare.cleanStale(learned, (h) => this.#health[h]?.health === "up");
    this.#aftercare.postPending();

    const d = this.#decide();
    this.#decision = d;
    this.#transition(d);
    if (d.action === "fence_and_failover") await this.#failover(signal);
    else if (d.action === "resume_failover") await this.#resumeFailover(signal);
  }

  #observe(round: RoundResult): void {
    const rule = { missesToFail: this.#cfg.misses_to_fail, successesToRecover: this.#cfg.successes_to_recover };
    for (const h of this.#cfg.hosts) {
      const before = this.#health[h] ?? initialHealth();
      const after = observeProbe(before, round.answered[h] ?? false, rule);
      this.#health[h] = after;
      if (before.health !== after.health && !(before.health === "unknown" && after.health === "up")) {
        const down = after.health === "down";
        this.#log[down ? "warn" : "info"](down ? `host ${h} is down (${after.misses} probes missed)` : `host ${h} is up again (${after.successes} probes answered)`, { host: h });
        if (!down) this.#alerted.clear();
      }
    }
  }

  #decide(): Decision {
    const now = this.#clock.now();
    const learned = this.#learned;
    const vmHost = learned ? this.#health[learned.host] : undefined;
    const others = this.#cfg.hosts.filter((h) => h !== learned?.host).map((h) => this.#lastRound?.answered[h] ?? false);
    const isolation = this.#lastRound?.isolationReachable ?? [];
    return decide(
      {
        learned: !!learned,
        vmWasOn: learned?.powerState === "poweredOn",
        vmHostHealth: vmHost?.health ?? "unknown",
        vmHostMisses: vmHost?.misses ?? 0,
        vmAnswers: this.#lastRound?.vmAnswers,
        isolated: isIsolated(isolation, others),
        paused: this.#pause.paused,
        dryRun: this.#cfg.dry_run,
        safety: checkSafety(this.#st.history, now, this.#cfg),
        failoverInProgress: !!this.#st.failover,
        retryPending: this.#st.retryAt !== undefined && now < this.#st.retryAt,
      },
      this.#st.state,
    );
  }

  #transition(d: Decision): void {
    const from = this.#st.state;
    const heldChanged = d.state === "held" && this.#lastHeld !== d.held;
    this.#lastHeld = d.state === "held" ? d.held : undefined;
    if (from === d.state && !heldChanged) return;
    this.#st.state = d.state;
    this.#st.lastTransition = new Date(this.#clock.now()).toISOString();
    this.#persistState();
    this.#setStateMetric();
    this.#metrics.counter("esxkit_watchdog_transitions_total", "Watchdog state transitions").inc({ watchdog: this.#cfg.name, from, to: d.state });
    const alert = ALERT_STATES.has(d.state);
    const severity = !alert ? "info" : d.state === "fence_failed" || d.state === "failover_failed" ? "error" : "warning";
    this.#emit({ kind: alert ? "alert" : "transition", severity, message: `${from} → ${d.state}: ${d.reason}`, fields: { from, to: d.state, held: d.held, host: this.#learned?.host } });
    if (d.held === "dry_run") {
      this.#planning ??= this.#dryRunPlan().finally(() => {
        this.#planning = undefined;
      });
    }
  }

  #lastHeld: HeldReason | undefined;

  #setStateMetric(): void {
    const g = this.#metrics.gauge("esxkit_watchdog_state", "1 for the watchdog's current state, 0 for the others");
    for (const s of WATCHDOG_STATES) g.set({ watchdog: this.#cfg.name, state: s }, s === this.#st.state ? 1 : 0);
  }

  #emit(ev: WatchdogEvent): void {
    this.#notifier.emit({ ...ev, fields: { ...ev.fields } });
  }

  #persistState(): void {
    try {
      saveState(this.#deps.stateDir, this.#cfg.name, this.#st);
    } catch (err) {
      this.#log.error("cannot persist the watchdog state", { error: err });
    }
  }

  #healthyHosts(): string[] {
    return this.#cfg.hosts.filter((h) => this.#health[h]?.health === "up");
  }

  #alertOnce(key: string, ev: WatchdogEvent): void {
    if (this.#alerted.has(key)) return;
    this.#alerted.add(key);
    this.#emit(ev);
  }

  // ------------------------------------------------------------------ failover

  async #failover(signal: AbortSignal): Promise<void> {
    const learned = this.#learned;
    if (!learned) return;
    const failedHost = learned.host;
    const bmc = this.#deps.esxi[failedHost]?.bmc;
    this.#busy = true;
    this.#epoch++;
    try {
      const healthy = new Set(this.#healthyHosts());
      // Before fencing anything: is the VM running elsewhere already (moved while we looked away)?
      const scan = await scanCopies([...healthy].filter((h) => h !== failedHost), this.#clients, learned);
      const running = scan.copies.find((c) => c.reg.powerState === "poweredOn");
      if (running) {
        this.#emit({ kind: "already_running", severity: "info", message: `the VM already runs on ${running.host}; no fence needed` });
        this.#learner.adopt(running.host, running.reg.ref, running.reg.vmxPath ?? learned.vmxPath);
        this.#aftercare.addStale(failedHost);
        this.#persistState();
        return;
      }
      // Fencing a host for nothing is worse than not fencing: there must be a place to go.
      const placed = await planPlacement(this.#cfg, learned, failedHost, this.#clients, healthy);
      if (!placed.chosen) {
        this.#failed("failover_failed", `no host can take the VM, so ${failedHost} is not fenced: ${placed.rejected.map((r) => `${r.host}: ${r.reason}`).join("; ")}`, { rejected: placed.rejected });
        return;
      }
      if (!bmc) {
        this.#failed("fence_failed", `[esxi.${failedHost}] has no bmc: it cannot be fenced, so the VM is not restarted`);
        return;
      }
      this.#emit(targetChosenEvent(placed));
      this.#emit({ kind: "fence_started", severity: "warning", message: `fencing ${failedHost}: chassis power off via BMC ${bmc.address}:${bmc.port}`, fields: { host: failedHost, bmc: `${bmc.address}:${bmc.port}`, target: placed.chosen } });
      let fenced: Awaited<ReturnType<typeof fenceHost>>;
      try {
        fenced = await fenceHost(bmc, { open: this.#deps.openChassis ?? ipmiChassisOpener(this.#log), timeoutMs: this.#cfg.fence_timeout_s * 1000, logger: this.#log, signal, now: () => this.#clock.now(), sleep: this.#clock.sleep });
      } catch (err) {
        if (signal.aborted) return;
        this.#failed("fence_failed", `no confirmed fence of ${failedHost}, so no failover: ${(err as Error).message}`);
        return;
      }
      const now = this.#clock.now();
      const record: FailoverRecord = { id: randomUUID(), failedHost, phase: "fenced", target: placed.chosen, startedAt: new Date(now).toISOString(), fencedAt: new Date(now).toISOString() };
      this.#st.failover = record;
      this.#st.history = pruneHistory([...this.#st.history, now], now);
      this.#st.retryAt = undefined;
      this.#persistState();
      this.#emit({ kind: "fenced", severity: "warning", message: `${failedHost} is off${fenced.alreadyOff ? " (it was off already)" : ""}`, fields: { host: failedHost, already_off: fenced.alreadyOff, reads: fenced.reads, fence_ms: fenced.elapsedMs, failover: record.id } });
      this.#transition({ state: "failing_over", action: "resume_failover", reason: `${failedHost} is fenced; restarting the VM elsewhere` });
      await this.#completeFailover(signal);
    } finally {
      this.#busy = false;
      this.#epoch++;
    }
  }

  async #resumeFailover(signal: AbortSignal): Promise<void> {
    this.#busy = true;
    this.#epoch++;
    try {
      await this.#completeFailover(signal);
    } finally {
      this.#busy = false;
      this.#epoch++;
    }
  }

  async #completeFailover(signal: AbortSignal): Promise<void> {
    const learned = this.#learned;
    let record = this.#st.failover;
    if (!learned || !record) return;
    try {
      const out = await runFailover(record, {
        cfg: this.#cfg,
        learned,
        clients: this.#clients,
        healthyHosts: () => this.#healthyHosts(),
        logger: this.#log,
        emit: (ev) => this.#emit(ev),
        persist: (r) => {
          record = r;
          this.#st.failover = r;
          this.#persistState();
        },
        signal,
        now: () => this.#clock.now(),
        sleep: this.#clock.sleep,
      });
      const failedHost = record.failedHost;
      this.#st.failover = undefined;
      this.#st.retryAt = undefined;
      this.#aftercare.addStale(failedHost);
      this.#learner.adopt(out.host, out.ref, out.vmxPath);
      this.#persistState();
      const message = out.alreadyRunning ? `the VM was already running on ${out.host}` : `the VM runs on ${out.host} again (was on ${failedHost})`;
      const uuidKept = !learned.uuid || !out.uuid ? undefined : learned.uuid === out.uuid;
      this.#emit({ kind: "failover_succeeded", severity: "warning", message, fields: { from: failedHost, target: out.host, vm_ref: out.ref.value, power_on_attempts: out.powerOnAttempts, already_running: out.alreadyRunning, uuid: out.uuid, uuid_kept: uuidKept, failover: record.id, started_at: record.startedAt } });
      if (uuidKept === false) {
        this.#emit({ kind: "identity_changed", severity: "error", message: `the VM runs on ${out.host} with BIOS uuid ${out.uuid}, not ${learned.uuid}: it was treated as a copy, so its MAC addresses and licences may have changed`, fields: { target: out.host, uuid: out.uuid, learned_uuid: learned.uuid } });
      }
      const adopted = this.#learned;
      if (adopted) this.#aftercare.announceFailover(adopted, `esxkit restarted ${this.#cfg.vm} on ${out.host} after fencing ${failedHost}`);
      this.#transition({ state: "healthy", action: "none", reason: `the VM runs on ${out.host}` });
    } catch (err) {
      if (signal.aborted) return;
      const reason = err instanceof FailoverError ? err.reason : "error";
      this.#failed("failover_failed", `restarting the VM failed (${reason}): ${(err as Error).message}`, { failover: record.id });
    }
  }

  #failed(state: "fence_failed" | "failover_failed", message: string, fields: Record<string, unknown> = {}): void {
    this.#st.retryAt = this.#clock.now() + RETRY_BACKOFF_MS;
    this.#decision = { state, action: "none", reason: message };
    this.#transition(this.#decision);
    this.#persistState();
    this.#emit({ kind: state, severity: "error", message, fields: { host: this.#learned?.host, retry_at: new Date(this.#st.retryAt).toISOString(), ...fields } });
  }

  async #dryRunPlan(): Promise<void> {
    const learned = this.#learned;
    if (!learned) return;
    try {
      const placed = await planPlacement(this.#cfg, learned, learned.host, this.#clients, new Set(this.#healthyHosts()));
      const bmc = this.#deps.esxi[learned.host]?.bmc;
      this.#emit({
        kind: "dry_run_plan",
        severity: "warning",
        message: `dry run: would fence ${learned.host} via BMC ${bmc ? `${bmc.address}:${bmc.port}` : "(none)"} and restart the VM on ${placed.chosen ?? "no host"}`,
        fields: { host: learned.host, target: placed.chosen, ranked: placed.ranked, rejected: placed.rejected, missing_networks: placed.missingNetworks },
      });
    } catch (err) {
      this.#log.warn("dry run: could not plan the placement", { error: err });
    }
  }
}
