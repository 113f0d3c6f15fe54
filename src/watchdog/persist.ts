// The two files each watchdog keeps in <state_dir>/watchdog/:
//   <name>.cache.json   what was learned about the VM while healthy (learn.ts)
//   <name>.state.json   the state machine: state, an unfinished failover, failover history,
//                       stale copies to clean up, events still to post
// Both are written atomically (store.ts) before the step they describe is taken as done.
import { join } from "node:path";
import type { FailoverRecord } from "./failover.ts";
import { isLearnedVm, type LearnedVm } from "./learn.ts";
import { pruneHistory } from "./safety.ts";
import type { StaleCopy } from "./stale.ts";
import { WATCHDOG_STATES, type WatchdogState } from "./state-machine.ts";
import { fileSafe, readJson, watchdogDir, writeJsonDurably } from "./store.ts";

/** An EventEx waiting for vCenter to come back. */
export interface PendingEvent {
  eventTypeId: string;
  message: string;
  severity: "info" | "warning" | "error";
  time: string;
}

export interface PersistedState {
  version: 1;
  state: WatchdogState;
  lastTransition: string;
  failover?: FailoverRecord;
  /** ms until which a failed fence/failover is not retried. */
  retryAt?: number;
  /** Start times (ms since epoch) of recent failovers, for the cooldown and hourly limit. */
  history: number[];
  stale: StaleCopy[];
  pendingEvents: PendingEvent[];
}

export function cachePath(stateDir: string, name: string): string {
  return join(watchdogDir(stateDir), `${fileSafe(name)}.cache.json`);
}

export function statePath(stateDir: string, name: string): string {
  return join(watchdogDir(stateDir), `${fileSafe(name)}.state.json`);
}

export function freshState(now: number): PersistedState {
  return { version: 1, state: "starting", lastTransition: new Date(now).toISOString(), history: [], stale: [], pendingEvents: [] };
}

export function loadState(stateDir: string, name: string, now: number): PersistedState {
  const raw = readJson(statePath(stateDir, name)) as Partial<PersistedState> | undefined;
  if (!raw || raw.version !== 1) return freshState(now);
  const state = WATCHDOG_STATES.includes(raw.state as WatchdogState) ? (raw.state as WatchdogState) : "starting";
  const failover = raw.failover && typeof raw.failover.failedHost === "string" && typeof raw.failover.phase === "string" ? raw.failover : undefined;
  return {
    version: 1,
    state,
    lastTransition: typeof raw.lastTransition === "string" ? raw.lastTransition : new Date(now).toISOString(),
    failover,
    retryAt: typeof raw.retryAt === "number" ? raw.retryAt : undefined,
    history: Array.isArray(raw.history) ? pruneHistory(raw.history.filter((t): t is number => typeof t === "number"), now) : [],
    stale: Array.isArray(raw.stale) ? raw.stale.filter((s): s is StaleCopy => typeof s?.host === "string") : [],
    pendingEvents: Array.isArray(raw.pendingEvents) ? raw.pendingEvents.slice(-50) : [],
  };
}

export function saveState(stateDir: string, name: string, s: PersistedState): void {
  writeJsonDurably(statePath(stateDir, name), s);
}

export function loadCache(stateDir: string, name: string, vm: string): LearnedVm | undefined {
  const raw = readJson(cachePath(stateDir, name));
  return isLearnedVm(raw, vm) ? raw : undefined;
}

export function saveCache(stateDir: string, name: string, learned: LearnedVm): void {
  writeJsonDurably(cachePath(stateDir, name), learned);
}
