// What `esxkit status` and the daemon's status endpoint show about one watchdog.
import type { WatchdogConfig } from "../config/types.ts";
import type { BmcIdentity } from "./bmc-identity.ts";
import type { SplitBrain } from "./split-brain.ts";
import type { FailoverRecord } from "./failover.ts";
import type { HostHealthTracker } from "./host-health.ts";
import type { HealthCounter } from "./hysteresis.ts";
import type { LearnedVm } from "./learn.ts";
import { pausedUntilIso } from "./pause-control.ts";
import type { PauseInfo } from "./pause.ts";
import type { StateKeeper } from "./state-keeper.ts";
import type { HeldReason, WatchdogState } from "./state-machine.ts";

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
  /** Per host: is its BMC shown to be its own? Only "verified" and "pinned" hosts are ever fenced. */
  bmcIdentity: Record<string, BmcIdentity>;
  /** The failover claim (one actor per VM across esxkit instances). */
  claim: ClaimStatus;
  /** Set while the VM is seen powered on on more than one host. */
  splitBrain?: SplitBrain;
}

export interface ClaimStatus {
  /** This instance's name in the claim folder. */
  holder: string;
  /** The epoch this instance holds, if any, and the seconds left on it. */
  epoch?: number;
  remainingS: number;
  /** "another instance is failing this VM over …" while one does. */
  elsewhere?: string;
}

export interface StatusSources {
  cfg: WatchdogConfig;
  state: StateKeeper;
  pause: PauseInfo;
  health: HostHealthTracker;
  learned: LearnedVm | undefined;
  rounds: number;
  identities: Record<string, BmcIdentity>;
  claim: ClaimStatus;
  splitBrain?: SplitBrain;
}

export function watchdogStatus({ cfg, state, pause, health, learned, rounds, identities, claim, splitBrain }: StatusSources): WatchdogStatus {
  const { st, decision } = state;
  return {
    name: cfg.name,
    vm: cfg.vm,
    state: st.state,
    host: learned?.host,
    lastTransition: st.lastTransition,
    paused: pause.paused,
    pausedUntil: pausedUntilIso(pause),
    pauseReason: pause.reason,
    held: decision?.held,
    reason: decision?.reason,
    dryRun: cfg.dry_run,
    hosts: health.snapshot(),
    failover: st.failover,
    staleCopies: st.stale.map((s) => s.host),
    learnedAt: learned?.learnedAt,
    rounds,
    bmcIdentity: identities,
    claim,
    splitBrain,
  };
}
