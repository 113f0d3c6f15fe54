// One [[watchdog]] entry as a daemon service: probe rounds on a timer, hysteresis, the
// decision (state-machine.ts), and the actions it calls for — fence, fail over, clean up the
// stale copy — with the state persisted before each step so a restart resumes, never repeats.
// This file runs the rounds; the parts live beside it: host-health.ts, decision.ts,
// pause-control.ts, state-keeper.ts, failover-driver.ts, status.ts.
import { stateDirProblem } from "../config/state-dir.ts";
import type { EndpointConfig, EsxiConfig, WatchdogConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { metrics as defaultMetrics, type MetricsRegistry } from "../log/metrics.ts";
import { Aftercare } from "./aftercare.ts";
import { BmcIdentities, mayBeFenceable } from "./bmc-identity.ts";
import { FailoverArbiter } from "./claim.ts";
import { FenceAftermath } from "./fence-aftermath.ts";
import { SplitBrainTracker } from "./split-brain.ts";
import { type Clock, systemClock } from "./clock.ts";
import { decideNext } from "./decision.ts";
import { WatchdogEvents } from "./events.ts";
import { FailoverDriver } from "./failover-driver.ts";
import type { OpenChassis } from "./fence.ts";
import { HostHealthTracker } from "./host-health.ts";
import { HostClients } from "./hosts.ts";
import { ipmiChassisOpener } from "./ipmi-chassis.ts";
import { journalPath } from "./journal.ts";
import { Learner } from "./learner.ts";
import { Notifier } from "./notify.ts";
import type { PauseInfo } from "./pause.ts";
import { PauseControl } from "./pause-control.ts";
import { validateIsolationAddresses } from "./probe.ts";
import { type Probes, probeRound, type RoundResult, realProbes } from "./round.ts";
import { StateKeeper } from "./state-keeper.ts";
import { watchdogDir } from "./store.ts";
import { type WatchdogStatus, watchdogStatus } from "./status.ts";

export { type Clock, systemClock } from "./clock.ts";
export { RETRY_BACKOFF_MS } from "./failover-driver.ts";
export type { WatchdogStatus } from "./status.ts";

/** How long after a fence another host going silent raises the silent_after_fence alarm. */
export const SILENT_AFTER_FENCE_MS = 5 * 60_000;

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
  readonly #events: WatchdogEvents;
  readonly #probes: Probes;
  readonly #health: HostHealthTracker;
  readonly #state: StateKeeper;
  readonly #pause: PauseControl;
  readonly #learner: Learner;
  readonly #aftercare: Aftercare;
  readonly #driver: FailoverDriver;
  readonly #identities: BmcIdentities;
  readonly #arbiter: FailoverArbiter;
  readonly #splitBrain: SplitBrainTracker;
  readonly #aftermath: FenceAftermath;
  #lastRound: RoundResult | undefined;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #rounds = 0;

  constructor(cfg: WatchdogConfig, deps: WatchdogDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger.child("watchdog", { watchdog: cfg.name });
    this.#clients = new HostClients(deps.esxi, this.#log);
    this.#probes = deps.probes ?? realProbes;
    const metrics = deps.metrics ?? defaultMetrics;
    const now = () => this.#clock.now();
    this.#events = new WatchdogEvents(
      new Notifier({
        watchdog: cfg.name,
        vm: cfg.vm,
        dryRun: cfg.dry_run,
        logger: this.#log,
        journal: journalPath(deps.stateDir),
        webhook: cfg.webhook,
        command: cfg.command,
        now,
      }),
    );
    const events = this.#events;
    const emit = events.emit.bind(events);
    const alertOnce = events.alertOnce.bind(events);
    this.#health = new HostHealthTracker(cfg, this.#log, () => events.clearAlerts());
    this.#state = new StateKeeper({
      name: cfg.name,
      stateDir: deps.stateDir,
      log: this.#log,
      metrics,
      now,
      emit,
      vmHost: () => this.#learner.learned?.host,
      onDryRunHeld: () => this.#driver.planDryRun(),
    });
    this.#splitBrain = new SplitBrainTracker({ watchdog: cfg.name, metrics, emit, now });
    const splitBrain = this.#splitBrain;
    this.#pause = new PauseControl({ stateDir: deps.stateDir, name: cfg.name, now, emit });
    this.#learner = new Learner({
      cfg,
      clients: this.#clients,
      log: this.#log,
      stateDir: deps.stateDir,
      now,
      emit,
      alertOnce,
      clearAlert: (key) => events.clearAlert(key),
      refreshMs: deps.refreshIntervalMs ?? Math.max(30_000, 15 * cfg.probe_interval_ms),
      splitBrain,
      onSplitResolved: (_host, others) => {
        for (const h of others) this.#aftercare.addStale(h);
        this.#state.persist();
      },
    });
    const state = this.#state;
    this.#identities = new BmcIdentities({
      watchdog: cfg.name,
      hosts: cfg.hosts,
      esxi: deps.esxi,
      clients: this.#clients,
      open: deps.openChassis ?? ipmiChassisOpener(this.#log),
      stateDir: deps.stateDir,
      log: this.#log,
      now,
      alertOnce,
      clearAlert: (key) => events.clearAlert(key),
      emit,
      recheckMs: deps.refreshIntervalMs ?? Math.max(30_000, 15 * cfg.probe_interval_ms),
      retryMs: Math.max(2000, 3 * cfg.probe_interval_ms),
      timeoutMs: Math.min(5000, cfg.fence_timeout_s * 1000),
    });
    this.#aftermath = new FenceAftermath({ now, alertOnce, windowMs: SILENT_AFTER_FENCE_MS });
    this.#arbiter = new FailoverArbiter({ cfg, clients: this.#clients, stateDir: deps.stateDir, log: this.#log, now });
    this.#aftercare = new Aftercare({ clients: this.#clients, log: this.#log, vcenter: deps.vcenter, state: () => state.st, persist: () => state.persist(), emit, alertOnce, splitBrain, now, postRetryMs: Math.max(2000, 5 * cfg.probe_interval_ms) });
    this.#driver = new FailoverDriver({
      cfg,
      esxi: deps.esxi,
      openChassis: deps.openChassis,
      clock: this.#clock,
      log: this.#log,
      clients: this.#clients,
      learner: this.#learner,
      aftercare: this.#aftercare,
      state,
      events,
      health: this.#health,
      identities: this.#identities,
      arbiter: this.#arbiter,
      aftermath: this.#aftermath,
    });
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.#loop) return;
    // Without its persisted state a restart mid-failover could power the VM on twice.
    const stateProblem = stateDirProblem(watchdogDir(this.#deps.stateDir));
    if (stateProblem) throw new Error(`watchdog ${this.#cfg.name}: state_dir: ${stateProblem}; a watchdog never runs without its persisted state`);
    const icmp = validateIsolationAddresses(this.#cfg.isolation_addresses);
    for (const h of this.#cfg.hosts) {
      if (!this.#deps.esxi[h]) throw new Error(`watchdog ${this.#cfg.name}: no [esxi.${h}] endpoint`);
    }
    this.#abort = new AbortController();
    this.#pause.load();
    this.#state.setStateMetric();
    const st = this.#state.st;
    const resumed = st.failover ? { failover: st.failover } : {};
    this.#events.emit({ kind: "started", severity: "info", message: `watching VM ${this.#cfg.vm} on ${this.#cfg.hosts.join(", ")}${this.#cfg.dry_run ? " (dry run)" : ""}`, fields: { host: this.#learner.learned?.host, state: st.state, ...resumed, ...(icmp ? { icmp_socket: icmp } : {}) } });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error("watchdog stopped"));
    await this.#loop?.catch(() => undefined);
    this.#loop = undefined;
    await this.#learner.stop();
    await this.#aftercare.stop();
    await this.#identities.stop();
    await this.#driver.planning;
    await this.#clients.closeAll(new Set(this.#cfg.hosts.filter((h) => this.#lastRound?.answered[h])));
    await this.#events.flush();
  }

  status(): WatchdogStatus {
    return watchdogStatus({ cfg: this.#cfg, state: this.#state, pause: this.#pause.info, health: this.#health, learned: this.#learner.learned, rounds: this.#rounds, identities: this.#identities.snapshot(), claim: { holder: this.#arbiter.holder, epoch: this.#arbiter.heldEpoch, remainingS: Math.round(this.#arbiter.remaining() / 1000), elsewhere: this.#driver.claimedElsewhere }, splitBrain: this.#splitBrain.active });
  }

  pause(ttlMs?: number, reason?: string): PauseInfo {
    return this.#pause.pause(ttlMs, reason);
  }

  resume(): PauseInfo {
    return this.#pause.resume();
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
    this.#pause.refresh();

    const round = await probeRound(this.#cfg, this.#deps.esxi, this.#probes, signal);
    if (signal.aborted) return;
    this.#lastRound = round;
    this.#rounds++;
    this.#health.observe(round);
    this.#aftermath.observe(this.#cfg.hosts.filter((h) => this.#health.get(h)?.health === "down"));
    for (const r of round.isolation) {
      const key = `isolation-probe:${r.address}`;
      if (r.outcome !== "error") this.#events.clearAlert(key);
      else this.#events.alertOnce(key, { kind: "alert", severity: "error", message: `isolation address ${r.address} cannot be probed: ${r.detail}`, fields: { address: r.address } });
    }

    const driver = this.#driver;
    if (!driver.busy && this.#learner.due) {
      const epoch = driver.epoch;
      this.#learner.start(
        this.#cfg.hosts.filter((h) => round.answered[h]),
        () => epoch === driver.epoch && !driver.busy,
      );
    }
    if (!driver.busy) this.#identities.refresh();
    const learned = this.#learner.learned;
    if (learned && !driver.busy && !this.#cfg.dry_run && this.#state.st.stale.length) this.#aftercare.cleanStale(learned, (h) => this.#health.isUp(h));
    this.#aftercare.postPending();

    const d = decideNext({ cfg: this.#cfg, learned: this.#learner.learned, health: this.#health, lastRound: this.#lastRound, paused: this.#pause.info.paused, st: this.#state.st, now: this.#clock.now(), fenceable: (h) => mayBeFenceable(this.#identities.get(h)), claimedElsewhere: driver.claimedElsewhere, splitBrain: this.#splitBrain.active?.message });
    if (d.action === "none") driver.settle();
    this.#state.decided(d);
    if (d.action === "fence_and_failover") await driver.fenceAndFailover(signal);
    else if (d.action === "resume_failover") await driver.resumeFailover(signal);
  }
}
