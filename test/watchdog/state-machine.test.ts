import { describe, expect, test } from "bun:test";
import { type HealthCounter, initialHealth, observeProbe } from "../../src/watchdog/hysteresis.ts";
import { checkSafety, HOUR_MS, pruneHistory } from "../../src/watchdog/safety.ts";
import { type IsolationResult, isolationVerdict } from "../../src/watchdog/probe.ts";
import { decide, type Observation, type WatchdogState } from "../../src/watchdog/state-machine.ts";

const base: Observation = {
  learned: true,
  vmWasOn: true,
  vmHostHealth: "up",
  vmHostMisses: 0,
  vmAnswers: undefined,
  isolated: false,
  paused: false,
  dryRun: false,
  safety: { allowed: true },
  failoverInProgress: false,
  retryPending: false,
};
const down: Partial<Observation> = { vmHostHealth: "down", vmHostMisses: 3 };

describe("decide", () => {
  test.each<[string, Partial<Observation>, WatchdogState, string, string | undefined]>([
    ["nothing learned", { learned: false, ...down }, "starting", "none", undefined],
    ["host never probed", { vmHostHealth: "unknown" }, "starting", "none", undefined],
    ["host answers", {}, "healthy", "none", undefined],
    ["host missed some probes", { vmHostMisses: 2 }, "suspect", "none", undefined],
    ["host down, VM silent", down, "fencing", "fence_and_failover", undefined],
    ["host down, no VM probe configured", { ...down, vmAnswers: undefined }, "fencing", "fence_and_failover", undefined],
    ["host down, VM answers: only the agent died", { ...down, vmAnswers: true }, "agent_down", "none", undefined],
    ["host down, VM silent, esxkit isolated", { ...down, vmAnswers: false, isolated: true }, "isolated", "none", undefined],
    ["host down, paused", { ...down, paused: true }, "held", "none", "paused"],
    ["host down, cooldown", { ...down, safety: { allowed: false, reason: "cooldown", until: 1 } }, "held", "none", "cooldown"],
    ["host down, hourly limit", { ...down, safety: { allowed: false, reason: "rate_limit", until: 1 } }, "held", "none", "rate_limit"],
    ["host down, dry run", { ...down, dryRun: true }, "held", "none", "dry_run"],
    ["host down, VM was powered off", { ...down, vmWasOn: false }, "held", "none", "vm_powered_off"],
    ["paused beats dry run", { ...down, paused: true, dryRun: true }, "held", "none", "paused"],
    ["VM answering beats isolation", { ...down, vmAnswers: true, isolated: true }, "agent_down", "none", undefined],
    ["failover in progress resumes, even when paused", { ...down, failoverInProgress: true, paused: true }, "failing_over", "resume_failover", undefined],
    ["failover in progress resumes after a restart with nothing probed", { vmHostHealth: "unknown", failoverInProgress: true }, "failing_over", "resume_failover", undefined],
    ["failed failover waits for its retry", { ...down, failoverInProgress: true, retryPending: true }, "failover_failed", "none", undefined],
    ["isolation while healthy changes nothing", { isolated: true }, "healthy", "none", undefined],
    ["host down, its BMC not shown to be its own: never fenced", { ...down, vmHostFenceable: false }, "held", "none", "bmc_identity"],
    ["BMC identity is checked before a dry run would plan", { ...down, vmHostFenceable: false, dryRun: true }, "held", "none", "bmc_identity"],
    ["another instance holds the claim: held, but the attempt is repeated", { ...down, claimedElsewhere: "another instance is failing this VM over" }, "held", "fence_and_failover", "claimed_elsewhere"],
    ["a resumed failover waits for another's claim too", { ...down, failoverInProgress: true, claimedElsewhere: "another" }, "held", "resume_failover", "claimed_elsewhere"],
    ["pause beats another's claim", { ...down, paused: true, claimedElsewhere: "another" }, "held", "none", "paused"],
    ["split brain: no action, whatever else", { ...down, splitBrain: "on esx01 and esx02" }, "split_brain", "none", undefined],
    ["split brain stops a failover in progress", { ...down, failoverInProgress: true, splitBrain: "on esx01 and esx02" }, "split_brain", "none", undefined],
    ["split brain while the host answers", { splitBrain: "on esx01 and esx02" }, "split_brain", "none", undefined],
  ])("%s", (_name, patch, state, action, held) => {
    const d = decide({ ...base, ...patch }, "healthy");
    expect(d.state).toBe(state);
    expect(d.action).toBe(action as typeof d.action);
    expect(d.held).toBe(held as typeof d.held);
  });

  test.each<[WatchdogState, boolean, WatchdogState, string]>([
    ["fence_failed", true, "fence_failed", "none"],
    ["fence_failed", false, "fencing", "fence_and_failover"],
    ["failover_failed", true, "failover_failed", "none"],
    ["healthy", true, "fencing", "fence_and_failover"],
  ])("from %s with retryPending=%p → %s", (current, retryPending, state, action) => {
    const d = decide({ ...base, ...down, retryPending }, current);
    expect([d.state, d.action]).toEqual([state, action as typeof d.action]);
  });
});

describe("hysteresis", () => {
  const rule = { missesToFail: 3, successesToRecover: 2 };
  const run = (seq: string): HealthCounter => [...seq].reduce((c, ch) => observeProbe(c, ch === "+", rule), initialHealth());

  test.each([
    ["", "unknown"],
    ["+", "up"],
    ["+--", "up"],
    ["+---", "down"],
    ["---", "down"],
    ["+---+", "down"],
    ["+---++", "up"],
    ["+---+-+", "down"],
    ["+--+--+--+--", "up"], // flapping: never 3 misses in a row
    ["+-+-+-+-+-+-", "up"],
    ["---+-+-+-+", "down"], // flapping while down: never 2 answers in a row
  ])("probes %p → %s", (seq, health) => {
    expect(run(seq).health).toBe(health as HealthCounter["health"]);
  });

  test("counters reset on the opposite outcome", () => {
    expect(run("+--")).toEqual({ health: "up", misses: 2, successes: 0 });
    expect(run("+--+")).toEqual({ health: "up", misses: 0, successes: 1 });
  });
});

describe("safety limits", () => {
  const limits = { cooldown_s: 600, max_failovers_per_hour: 2 };
  const t0 = 10 * HOUR_MS;
  test.each<[string, number[], number, boolean, string | undefined]>([
    ["no history", [], t0, true, undefined],
    ["inside the cooldown", [t0 - 60_000], t0, false, "cooldown"],
    ["after the cooldown", [t0 - 601_000], t0, true, undefined],
    ["two in the last hour", [t0 - 50 * 60_000, t0 - 20 * 60_000], t0, false, "rate_limit"],
    ["one of two aged out", [t0 - 61 * 60_000, t0 - 20 * 60_000], t0, true, undefined],
  ])("%s", (_n, history, now, allowed, reason) => {
    const v = checkSafety(history, now, limits);
    expect(v.allowed).toBe(allowed);
    if (!v.allowed) expect(v.reason).toBe(reason as typeof v.reason);
  });

  test("the rate limit lifts when the oldest failover of the window ages out", () => {
    const v = checkSafety([t0 - 50 * 60_000, t0 - 20 * 60_000], t0, limits);
    expect(v).toEqual({ allowed: false, reason: "rate_limit", until: t0 - 50 * 60_000 + HOUR_MS });
  });

  test("pruning keeps the last hour and the latest entry", () => {
    expect(pruneHistory([t0 - 3 * HOUR_MS, t0 - 2 * HOUR_MS], t0)).toEqual([t0 - 2 * HOUR_MS]);
    expect(pruneHistory([t0 - 2 * HOUR_MS, t0 - 1000, t0 - 5000], t0)).toEqual([t0 - 5000, t0 - 1000]);
  });
});

describe("decide with the isolation verdict (probe.ts)", () => {
  const dead = (address: string): IsolationResult => ({ address, outcome: "unreachable", detail: "no echo reply" });
  test.each<[string, boolean, WatchdogState]>([
    ["gateway dead, esx02 answers → fence and fail over", true, "fencing"],
    ["gateway dead, esx02 silent → isolated, no action", false, "isolated"],
  ])("%s", (_name, esx02, state) => {
    const v = isolationVerdict([dead("192.0.2.1")], [{ host: "esx02", answered: esx02 }]);
    const d = decide({ ...base, ...down, isolated: v.isolated, isolationDetail: v.detail }, "suspect");
    expect(d.state).toBe(state);
    expect(d.reason).toContain("192.0.2.1 (no echo reply)");
    expect(d.reason).toContain(esx02 ? "esx02 answers" : "esx02 did not answer");
  });
});
