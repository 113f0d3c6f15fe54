// Carries out what the state machine calls for when the VM's host is down: check the VM is not
// running elsewhere already, pick a target, fence the host through its BMC, then restart the
// VM (failover.ts) — the failover record persisted before each step so a restart resumes it.
import { randomUUID } from "node:crypto";
import type { EsxiConfig, WatchdogConfig } from "../config/types.ts";
import { errorCode, FailoverError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { Aftercare } from "./aftercare.ts";
import type { BmcIdentities } from "./bmc-identity.ts";
import type { ClaimOutcome, FailoverArbiter } from "./claim.ts";
import type { Clock } from "./clock.ts";
import type { WatchdogEvents } from "./events.ts";
import { type FailoverRecord, POWER_ON_STEP_MS, planPlacement, runFailover, scanCopies, targetChosenEvent } from "./failover.ts";
import { type ChassisSession, fenceHost, type OpenChassis } from "./fence.ts";
import type { FenceAftermath } from "./fence-aftermath.ts";
import type { HostHealthTracker } from "./host-health.ts";
import type { HostClients } from "./hosts.ts";
import { ipmiChassisOpener } from "./ipmi-chassis.ts";
import type { Learner } from "./learner.ts";
import { pruneHistory } from "./safety.ts";
import type { StateKeeper } from "./state-keeper.ts";

/** Wait before retrying a fence or failover that failed. */
export const RETRY_BACKOFF_MS = 30_000;

export interface FailoverDriverDeps {
  cfg: WatchdogConfig;
  esxi: Record<string, EsxiConfig>;
  openChassis?: OpenChassis;
  clock: Clock;
  log: Logger;
  clients: HostClients;
  learner: Learner;
  aftercare: Aftercare;
  state: StateKeeper;
  events: WatchdogEvents;
  health: HostHealthTracker;
  identities: BmcIdentities;
  arbiter: FailoverArbiter;
  aftermath: FenceAftermath;
}

export class FailoverDriver {
  readonly #d: FailoverDriverDeps;
  /** A fence or failover is under way: no learning, no stale-copy cleanup meanwhile. */
  #busy = false;
  /** Bumped whenever a failover starts or ends: a learn begun in another epoch is discarded. */
  #epoch = 0;
  #planning: Promise<void> | undefined;
  /** Another instance holds the failover claim: why this one waits (for the decision and status). */
  #claimedElsewhere: string | undefined;

  constructor(d: FailoverDriverDeps) {
    this.#d = d;
  }

  get busy(): boolean {
    return this.#busy;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get claimedElsewhere(): string | undefined {
    return this.#claimedElsewhere;
  }

  /** Nothing is to be done this round (the host is back, or a guard holds): forget another's claim. */
  settle(): void {
    this.#claimedElsewhere = undefined;
  }

  /** The dry-run plan being worked out, if any (stop() waits for it). */
  get planning(): Promise<void> | undefined {
    return this.#planning;
  }

  async fenceAndFailover(signal: AbortSignal): Promise<void> {
    const { cfg, clock, log, learner, state, events } = this.#d;
    const learned = learner.learned;
    if (!learned) return;
    const failedHost = learned.host;
    const bmc = this.#d.esxi[failedHost]?.bmc;
    this.#busy = true;
    this.#epoch++;
    try {
      const healthy = new Set(this.#d.health.healthyHosts());
      // Before fencing anything: is the VM running elsewhere already (moved while we looked away)?
      if (await this.#adoptRunning(failedHost, [...healthy])) return;
      // Fencing a host for nothing is worse than not fencing: there must be a place to go.
      const placed = await planPlacement(cfg, learned, failedHost, this.#d.clients, healthy);
      if (!placed.chosen) {
        this.#failed("failover_failed", `no host can take the VM, so ${failedHost} is not fenced: ${placed.rejected.map((r) => `${r.host}: ${r.reason}`).join("; ")}`, { rejected: placed.rejected });
        return;
      }
      if (!bmc) {
        this.#failed("fence_failed", `[esxi.${failedHost}] has no bmc: it cannot be fenced, so the VM is not restarted`);
        return;
      }
      // One actor per VM: no claim, no fence.
      const claim = await this.#claim(failedHost, "fence_failed");
      if (!claim) return;
      // Holding the claim, look again on every host that answers at all (not only those the
      // hysteresis calls healthy): the previous holder may have just restarted the VM on a host
      // that is coming back. Then there is nothing to fence.
      if (await this.#adoptRunning(failedHost, this.#answering(failedHost))) return;
      try {
        this.#d.arbiter.ensure((cfg.fence_timeout_s + 10) * 1000 + POWER_ON_STEP_MS, `fencing ${failedHost}`);
      } catch (err) {
        this.#failed("fence_failed", (err as Error).message);
        return;
      }
      state.transition({ state: "fencing", action: "fence_and_failover", reason: `claimed the failover (epoch ${claim.epoch} through ${claim.via})` });
      events.emit(targetChosenEvent(placed));
      events.emit({ kind: "fence_started", severity: "warning", message: `fencing ${failedHost}: chassis power off via BMC ${bmc.address}:${bmc.port}`, fields: { host: failedHost, bmc: `${bmc.address}:${bmc.port}`, target: placed.chosen } });
      let fenced: Awaited<ReturnType<typeof fenceHost>>;
      try {
        const verify = (session: ChassisSession) => this.#d.identities.verifyFenceSession(failedHost, bmc, session);
        fenced = await fenceHost(bmc, { open: this.#d.openChassis ?? ipmiChassisOpener(log), timeoutMs: cfg.fence_timeout_s * 1000, logger: log, verify, signal, now: () => clock.now(), sleep: clock.sleep });
      } catch (err) {
        if (signal.aborted) return;
        if (errorCode(err) === "ESX_BMC_IDENTITY") {
          await this.#d.arbiter.release(); // nothing was done: the claim can go at once
          this.#failed("fence_failed", `no fence, so no failover: ${(err as Error).message}`, { bmc_identity: this.#d.identities.get(failedHost) });
          return;
        }
        this.#failed("fence_failed", `no confirmed fence of ${failedHost}, so no failover: ${(err as Error).message}`);
        return;
      }
      this.#d.aftermath.fenced(failedHost, this.#d.health.healthyHosts());
      const now = clock.now();
      const record: FailoverRecord = { id: randomUUID(), failedHost, phase: "fenced", target: placed.chosen, startedAt: new Date(now).toISOString(), fencedAt: new Date(now).toISOString() };
      state.st.failover = record;
      state.st.history = pruneHistory([...state.st.history, now], now);
      state.st.retryAt = undefined;
      state.persist();
      events.emit({ kind: "fenced", severity: "warning", message: `${failedHost} is off${fenced.alreadyOff ? " (it was off already)" : ""}`, fields: { host: failedHost, already_off: fenced.alreadyOff, reads: fenced.reads, fence_ms: fenced.elapsedMs, failover: record.id } });
      state.transition({ state: "failing_over", action: "resume_failover", reason: `${failedHost} is fenced; restarting the VM elsewhere` });
      await this.#completeFailover(signal);
    } finally {
      this.#busy = false;
      this.#epoch++;
    }
  }

  /** Finish a failover whose host was fenced already (by this process or one before it). */
  async resumeFailover(signal: AbortSignal): Promise<void> {
    this.#busy = true;
    this.#epoch++;
    try {
      await this.#completeFailover(signal);
    } finally {
      this.#busy = false;
      this.#epoch++;
    }
  }

  /** Work out, in the background, what a failover would do now; one plan at a time. */
  planDryRun(): void {
    this.#planning ??= this.#dryRunPlan().finally(() => {
      this.#planning = undefined;
    });
  }

  async #completeFailover(signal: AbortSignal): Promise<void> {
    const { cfg, clock, learner, aftercare, state, events } = this.#d;
    const learned = learner.learned;
    let record = state.st.failover;
    if (!learned || !record) return;
    // A failover resumed after a restart, or after its claim ran out, needs a claim of its own.
    if (this.#d.arbiter.remaining() < POWER_ON_STEP_MS) {
      if (!(await this.#claim(record.failedHost, "failover_failed"))) return;
      if (await this.#adoptRunning(record.failedHost, this.#answering(record.failedHost))) {
        state.st.failover = undefined;
        state.st.retryAt = undefined;
        state.persist();
        state.transition({ state: "healthy", action: "none", reason: `the VM runs on ${learner.learned?.host} (restarted by another instance)` });
        return;
      }
    }
    try {
      const out = await runFailover(record, {
        cfg,
        learned,
        clients: this.#d.clients,
        healthyHosts: () => this.#d.health.healthyHosts(),
        logger: this.#d.log,
        emit: (ev) => events.emit(ev),
        persist: (r) => {
          record = r;
          state.st.failover = r;
          state.persist();
        },
        signal,
        now: () => clock.now(),
        sleep: clock.sleep,
        beforeStep: (budget, step) => this.#d.arbiter.ensure(budget, step),
      });
      await this.#d.arbiter.release();
      const failedHost = record.failedHost;
      state.st.failover = undefined;
      state.st.retryAt = undefined;
      aftercare.addStale(failedHost);
      for (const h of record.strays ?? []) if (h !== out.host) aftercare.addStale(h);
      learner.adopt(out.host, out.ref, out.vmxPath);
      state.persist();
      const message = out.alreadyRunning ? `the VM was already running on ${out.host}` : `the VM runs on ${out.host} again (was on ${failedHost})`;
      const uuidKept = !learned.uuid || !out.uuid ? undefined : learned.uuid === out.uuid;
      events.emit({ kind: "failover_succeeded", severity: "warning", message, fields: { from: failedHost, target: out.host, vm_ref: out.ref.value, power_on_attempts: out.powerOnAttempts, already_running: out.alreadyRunning, uuid: out.uuid, uuid_kept: uuidKept, failover: record.id, started_at: record.startedAt } });
      if (uuidKept === false) {
        events.emit({ kind: "identity_changed", severity: "error", message: `the VM runs on ${out.host} with BIOS uuid ${out.uuid}, not ${learned.uuid}: it was treated as a copy, so its MAC addresses and licences may have changed`, fields: { target: out.host, uuid: out.uuid, learned_uuid: learned.uuid } });
      }
      const adopted = learner.learned;
      if (adopted) aftercare.announceFailover(adopted, `esxkit restarted ${cfg.vm} on ${out.host} after fencing ${failedHost}`);
      state.transition({ state: "healthy", action: "none", reason: `the VM runs on ${out.host}` });
    } catch (err) {
      if (signal.aborted) return;
      const reason = err instanceof FailoverError ? err.reason : "error";
      this.#failed("failover_failed", `restarting the VM failed (${reason}): ${(err as Error).message}`, { failover: record.id });
    }
  }

  /** Hosts other than `failedHost` that answered their last probe, whatever their hysteresis says. */
  #answering(failedHost: string): string[] {
    return this.#d.cfg.hosts.filter((h) => h !== failedHost && (this.#d.health.get(h)?.successes ?? 0) > 0);
  }

  /** If the VM runs on one of `hosts`, take that as its place (no fence, no power-on) and say so. */
  async #adoptRunning(failedHost: string, hosts: readonly string[]): Promise<boolean> {
    const { learner, aftercare, state, events } = this.#d;
    const learned = learner.learned;
    if (!learned) return false;
    const scan = await scanCopies(hosts.filter((h) => h !== failedHost), this.#d.clients, learned);
    const running = scan.copies.find((c) => c.reg.powerState === "poweredOn");
    if (!running) return false;
    events.emit({ kind: "already_running", severity: "info", message: `the VM already runs on ${running.host}; no fence needed` });
    learner.adopt(running.host, running.reg.ref, running.reg.vmxPath ?? learned.vmxPath);
    aftercare.addStale(failedHost);
    state.persist();
    this.#claimedElsewhere = undefined;
    await this.#d.arbiter.release();
    return true;
  }

  /**
   * Claim the failover (claim.ts). Undefined when this instance must not act: another holds the
   * claim (state held, "another instance is failing this VM over"), or the arbiter cannot be
   * reached (state `unreachable`: no claim, no action).
   */
  async #claim(failedHost: string, unreachable: "fence_failed" | "failover_failed"): Promise<Extract<ClaimOutcome, { won: true }> | undefined> {
    const { learner, state, events } = this.#d;
    const learned = learner.learned;
    if (!learned) return undefined;
    let out: ClaimOutcome;
    try {
      out = await this.#d.arbiter.claim(learned, this.#d.health.healthyHosts().filter((h) => h !== failedHost));
    } catch (err) {
      this.#claimedElsewhere = undefined;
      this.#failed(unreachable, `no failover claim, so no action: ${(err as Error).message}`);
      return undefined;
    }
    if (out.won) {
      if (this.#claimedElsewhere) events.emit({ kind: "claim_taken_over", severity: "warning", message: `this instance now holds the failover claim (epoch ${out.epoch})`, fields: { epoch: out.epoch, via: out.via } });
      this.#claimedElsewhere = undefined;
      if (!out.reused) events.emit({ kind: "claimed", severity: "info", message: `claimed the failover of ${failedHost} (epoch ${out.epoch} on the VM's datastore, through ${out.via})`, fields: { epoch: out.epoch, via: out.via, holder: this.#d.arbiter.holder, remaining_s: Math.round(out.remainingMs / 1000) } });
      return out;
    }
    const reason = `another instance is failing this VM over (claim epoch ${out.epoch}${out.holder ? ` held by ${out.holder}` : ""}, seen through ${out.via}); this one takes over in ${Math.ceil(out.waitMs / 1000)} s if that claim is neither finished nor renewed`;
    if (!this.#claimedElsewhere) events.emit({ kind: "claimed_elsewhere", severity: "warning", message: reason, fields: { epoch: out.epoch, holder: out.holder, via: out.via, wait_s: Math.ceil(out.waitMs / 1000) } });
    this.#claimedElsewhere = reason;
    state.decided({ state: "held", action: "none", reason, held: "claimed_elsewhere" });
    return undefined;
  }

  #failed(to: "fence_failed" | "failover_failed", message: string, fields: Record<string, unknown> = {}): void {
    const { state } = this.#d;
    state.st.retryAt = this.#d.clock.now() + RETRY_BACKOFF_MS;
    state.decided({ state: to, action: "none", reason: message });
    state.persist();
    this.#d.events.emit({ kind: to, severity: "error", message, fields: { host: this.#d.learner.learned?.host, retry_at: new Date(state.st.retryAt).toISOString(), ...fields } });
  }

  async #dryRunPlan(): Promise<void> {
    const learned = this.#d.learner.learned;
    if (!learned) return;
    try {
      const placed = await planPlacement(this.#d.cfg, learned, learned.host, this.#d.clients, new Set(this.#d.health.healthyHosts()));
      const bmc = this.#d.esxi[learned.host]?.bmc;
      this.#d.events.emit({
        kind: "dry_run_plan",
        severity: "warning",
        message: `dry run: would fence ${learned.host} via BMC ${bmc ? `${bmc.address}:${bmc.port}` : "(none)"} and restart the VM on ${placed.chosen ?? "no host"}`,
        fields: { host: learned.host, target: placed.chosen, ranked: placed.ranked, rejected: placed.rejected, missing_networks: placed.missingNetworks },
      });
    } catch (err) {
      this.#d.log.warn("dry run: could not plan the placement", { error: err });
    }
  }
}
