// The watchdog's states and the pure decision taken on every probe round.
// The service gathers an Observation (probes, isolation guard, pause, limits, persisted
// failover record) and acts on the Decision; everything that is a rule lives here.
import type { HostHealth } from "./hysteresis.ts";
import type { SafetyVerdict } from "./safety.ts";

export const WATCHDOG_STATES = [
  "starting", // nothing learned yet: no failover possible
  "healthy",
  "suspect", // the VM's host missed probes, fewer than misses_to_fail
  "agent_down", // the host's API is down but the VM answers: only the host agent died; alert
  "isolated", // esxkit reaches neither its isolation addresses nor another host: no action
  "held", // a failover is due, but paused / cooldown / rate limit / dry run
  "fencing",
  "fence_failed", // no confirmed fence: alert, no failover
  "failing_over", // fenced; registering and powering on elsewhere
  "failover_failed",
  "split_brain", // the VM runs on more than one host: no action until a human resolves it
] as const;

export type WatchdogState = (typeof WATCHDOG_STATES)[number];

/** Steps of a failover after the fence is confirmed, persisted so a restart resumes there. */
export type FailoverPhase = "fenced" | "registered" | "powering_on";

export type HeldReason = "paused" | "cooldown" | "rate_limit" | "dry_run" | "vm_powered_off" | "bmc_identity" | "claimed_elsewhere";

export interface Observation {
  learned: boolean;
  /** The VM was powered on when last learned (a VM someone powered off is not restarted). */
  vmWasOn: boolean;
  vmHostHealth: HostHealth;
  vmHostMisses: number;
  /** The VM's own TCP probe: true = it answers; undefined = no probe configured or not run. */
  vmAnswers?: boolean;
  isolated: boolean;
  /** Which isolation probes failed (isolationVerdict in probe.ts): the reason when isolated, a note otherwise. */
  isolationDetail?: string;
  paused: boolean;
  dryRun: boolean;
  safety: SafetyVerdict;
  /** A persisted failover whose fence was confirmed and which has not finished. */
  failoverInProgress: boolean;
  /** After a failed fence or failover, the retry backoff has not run out yet. */
  retryPending: boolean;
  /** The VM's host's BMC is shown to be that host's (bmc-identity.ts); default true. */
  vmHostFenceable?: boolean;
  /**
   * Another esxkit instance holds the failover claim (claim.ts): why this one waits. The action
   * is still taken each round, to adopt the VM once it runs elsewhere or take over an expired claim.
   */
  claimedElsewhere?: string;
  /** The VM is seen powered on on more than one host (split-brain.ts): what is seen. */
  splitBrain?: string;
}

export type Action = "none" | "fence_and_failover" | "resume_failover";

export interface Decision {
  state: WatchdogState;
  action: Action;
  reason: string;
  held?: HeldReason;
}

export function decide(o: Observation, current: WatchdogState): Decision {
  // Two running copies: any action (a fence, a power-on) could only make it worse.
  if (o.splitBrain) return { state: "split_brain", action: "none", reason: o.splitBrain };
  // Once the host is confirmed off, finishing the failover is the only safe course: the VM is
  // down and nothing else will bring it back. Pause and limits only stop new failovers.
  if (o.failoverInProgress) {
    if (o.retryPending) return { state: "failover_failed", action: "none", reason: "waiting before the next attempt to restart the VM" };
    if (o.claimedElsewhere) return { state: "held", action: "resume_failover", reason: o.claimedElsewhere, held: "claimed_elsewhere" };
    return { state: "failing_over", action: "resume_failover", reason: "resuming the failover in progress" };
  }
  if (!o.learned) return { state: "starting", action: "none", reason: "the VM's placement is not learned yet" };
  if (o.vmHostHealth === "down" && !o.vmWasOn) {
    return { state: "held", action: "none", reason: "the VM's host is down, but the VM was powered off: nothing to restart", held: "vm_powered_off" };
  }
  if (o.vmHostHealth !== "down") {
    if (o.vmHostMisses > 0) return { state: "suspect", action: "none", reason: `the VM's host missed ${o.vmHostMisses} probe(s)` };
    if (o.vmHostHealth === "unknown") return { state: "starting", action: "none", reason: "the VM's host was not probed yet" };
    return { state: "healthy", action: "none", reason: "the VM's host answers" };
  }
  if (o.vmAnswers === true) {
    return { state: "agent_down", action: "none", reason: "the host's API is down but the VM answers its probe: only the host agent died" };
  }
  if (o.isolated) return { state: "isolated", action: "none", reason: o.isolationDetail ?? "esxkit reaches neither its isolation addresses nor another host" };
  if (o.paused) return { state: "held", action: "none", reason: "the watchdog is paused", held: "paused" };
  if (!o.safety.allowed) {
    const why = o.safety.reason === "cooldown" ? "the cooldown after the last failover runs" : "the maximum number of failovers per hour is reached";
    return { state: "held", action: "none", reason: why, held: o.safety.reason };
  }
  if (o.retryPending && (current === "fence_failed" || current === "failover_failed")) {
    return { state: current, action: "none", reason: "waiting before the next attempt" };
  }
  if (o.vmHostFenceable === false) {
    return { state: "held", action: "none", reason: "the VM's host is down, but its BMC is not shown to be its own (see bmcIdentity): it is never fenced", held: "bmc_identity" };
  }
  if (o.claimedElsewhere) return { state: "held", action: "fence_and_failover", reason: o.claimedElsewhere, held: "claimed_elsewhere" };
  if (o.dryRun) return { state: "held", action: "none", reason: "dry run: would fence the host and fail the VM over", held: "dry_run" };
  const note = o.isolationDetail ? ` (${o.isolationDetail})` : "";
  return { state: "fencing", action: "fence_and_failover", reason: `the VM's host is down and the VM does not answer${note}` };
}

/** States entered with an alert (log at warn/error, audit, hooks). */
export const ALERT_STATES: ReadonlySet<WatchdogState> = new Set(["agent_down", "isolated", "held", "fence_failed", "failover_failed", "split_brain"]);
