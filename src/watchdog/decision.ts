// Gathers what the state machine (state-machine.ts) decides on from one round's observations.
import type { WatchdogConfig } from "../config/types.ts";
import type { HostHealthTracker } from "./host-health.ts";
import type { LearnedVm } from "./learn.ts";
import type { PersistedState } from "./persist.ts";
import { isolationVerdict } from "./probe.ts";
import type { RoundResult } from "./round.ts";
import { checkSafety } from "./safety.ts";
import { type Decision, decide } from "./state-machine.ts";

export interface DecisionInputs {
  cfg: WatchdogConfig;
  learned: LearnedVm | undefined;
  health: HostHealthTracker;
  lastRound: RoundResult | undefined;
  paused: boolean;
  st: PersistedState;
  now: number;
  /** Whether a host's BMC is shown to be its own (bmc-identity.ts). */
  fenceable?: (host: string) => boolean;
  /** Another instance holds the failover claim: why this one waits. */
  claimedElsewhere?: string;
  /** What the split-brain tracker sees, if anything. */
  splitBrain?: string;
}

export function decideNext({ cfg, learned, health, lastRound, paused, st, now, fenceable, claimedElsewhere, splitBrain }: DecisionInputs): Decision {
  const vmHost = learned ? health.get(learned.host) : undefined;
  const others = cfg.hosts.filter((h) => h !== learned?.host).map((host) => ({ host, answered: lastRound?.answered[host] ?? false }));
  const isolation = isolationVerdict(lastRound?.isolation ?? [], others);
  return decide(
    {
      learned: !!learned,
      vmWasOn: learned?.powerState === "poweredOn",
      vmHostHealth: vmHost?.health ?? "unknown",
      vmHostMisses: vmHost?.misses ?? 0,
      vmAnswers: lastRound?.vmAnswers,
      isolated: isolation.isolated,
      isolationDetail: isolation.detail,
      paused,
      dryRun: cfg.dry_run,
      safety: checkSafety(st.history, now, cfg),
      failoverInProgress: !!st.failover,
      retryPending: st.retryAt !== undefined && now < st.retryAt,
      vmHostFenceable: learned && fenceable ? fenceable(learned.host) : undefined,
      claimedElsewhere,
      splitBrain,
    },
    st.state,
  );
}
