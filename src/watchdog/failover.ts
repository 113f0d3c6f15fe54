// Restarting the protected VM on another host once its old host is fenced, host-direct:
// look on every reachable host for a copy that already runs (then there is nothing to do),
// choose a target, RegisterVM_Task the cached vmx (path rewritten to the target's datastore
// name) unless it is registered there already, PowerOnVM_Task, answer msg.uuid.altered with
// "I moved it", and retry while the vmx is still locked (never touching lock files).
// Each step is persisted through `persist`, so a restarted esxkit resumes where it stopped.
import type { WatchdogConfig } from "../config/types.ts";
import { FailoverError, SoapFaultError, TaskFailedError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { str } from "../vsphere/convert.ts";
import { retrieveOne } from "../vsphere/properties.ts";
import type { MoRef } from "../vsphere/soap/types.ts";
import type { VmQuestion } from "../vsphere/vim-types.ts";
import { answerVm, findChoice, getPowerState, powerOnVm, registerVm } from "../vsphere/vm.ts";
import { rewriteDatastorePath } from "./datastore-path.ts";
import { defaultSleep } from "./fence.ts";
import type { HostClients } from "./hosts.ts";
import { type HostFacts, type LearnedVm, type Registration, readHostFacts, readRegistrations, sameVmx } from "./learn.ts";
import type { WatchdogEvent } from "./notify.ts";
import { type CandidateFacts, chooseTarget, type PlacementResult } from "./placement.ts";
import type { FailoverPhase } from "./state-machine.ts";

/** How long one PowerOnVM_Task may run (it blocks while a question is pending). */
export const POWER_ON_TASK_TIMEOUT_MS = 60_000;
/** How long a copy whose question we answered may take to report poweredOn. */
const POWERED_ON_WAIT_MS = 30_000;

export interface FailoverRecord {
  id: string;
  failedHost: string;
  phase: FailoverPhase;
  target?: string;
  targetVm?: MoRef;
  startedAt: string;
  fencedAt: string;
  /**
   * Targets given up after the VM was registered there (a host that failed mid-failover): their
   * registration is stray, and is unregistered once that host answers again (a copy that powered
   * on meanwhile is split brain).
   */
  strays?: string[];
}

export interface FailoverDeps {
  cfg: WatchdogConfig;
  learned: LearnedVm;
  clients: HostClients;
  /** Hosts that currently answer their probes. */
  healthyHosts: () => string[];
  logger: Logger;
  emit: (ev: WatchdogEvent) => void;
  persist: (record: FailoverRecord) => void;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Called before each step that starts the VM somewhere (register, answer, power on) with the
   * time that step may take: throws to stop the failover (the claim would not outlast it).
   */
  beforeStep?: (budgetMs: number, step: string) => void;
}

/** What one power-on step may take: the task's own bound and a margin. */
export const POWER_ON_STEP_MS = POWER_ON_TASK_TIMEOUT_MS + 5000;

export interface FailoverOutcome {
  host: string;
  ref: MoRef;
  vmxPath: string;
  /** Found powered on already (a previous run of esxkit, or someone else, started it). */
  alreadyRunning: boolean;
  powerOnAttempts: number;
  /** The BIOS uuid the running copy reports ("I moved it" keeps the learned one). */
  uuid?: string;
}

/** A copy of the protected VM on one host. */
export interface Copy {
  host: string;
  reg: Registration;
}

/** Every registration of the vmx on the given hosts; hosts that fail to answer are listed apart. */
export async function scanCopies(hosts: readonly string[], clients: HostClients, learned: LearnedVm): Promise<{ copies: Copy[]; failed: { host: string; error: unknown }[] }> {
  const copies: Copy[] = [];
  const failed: { host: string; error: unknown }[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      try {
        const { regs, facts } = await clients.use(host, async (c) => ({ regs: await readRegistrations(c), facts: await readHostFacts(c) }));
        for (const reg of regs) if (sameVmx(reg, facts.datastores, learned.datastoreUrl, learned.vmxPath)) copies.push({ host, reg });
      } catch (error) {
        failed.push({ host, error });
      }
    }),
  );
  return { copies, failed };
}

/** Fresh placement facts for the given hosts. */
export async function gatherCandidates(hosts: readonly string[], clients: HostClients, healthy: ReadonlySet<string>): Promise<{ candidates: CandidateFacts[]; facts: Map<string, HostFacts> }> {
  const facts = new Map<string, HostFacts>();
  const candidates = await Promise.all(
    hosts.map(async (host): Promise<CandidateFacts> => {
      if (!healthy.has(host)) return { host, healthy: false, datastores: [] };
      try {
        const f = await clients.use(host, readHostFacts);
        facts.set(host, f);
        return { host, healthy: true, connectionState: f.connectionState, inMaintenanceMode: f.inMaintenanceMode, freeMemoryBytes: f.freeMemoryBytes, datastores: f.datastores, networks: f.networks };
      } catch (err) {
        return { host, healthy: true, datastores: [], error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return { candidates, facts };
}

/** Choose the target host for `learned`, excluding `failedHost`. */
export async function planPlacement(cfg: WatchdogConfig, learned: LearnedVm, failedHost: string, clients: HostClients, healthy: ReadonlySet<string>): Promise<PlacementResult & { facts: Map<string, HostFacts> }> {
  const { candidates, facts } = await gatherCandidates(
    cfg.hosts.filter((h) => h !== failedHost),
    clients,
    healthy,
  );
  const placed = chooseTarget({ candidates, failedHost, selfHost: cfg.self_host, datastoreUrl: learned.datastoreUrl, networks: learned.networks });
  return { ...placed, facts };
}

/** The target_chosen event: a warning when the target lacks some of the VM's networks. */
export function targetChosenEvent(placed: PlacementResult): WatchdogEvent {
  const missing = placed.missingNetworks;
  const lacks = missing.length ? `, which lacks its network(s) ${missing.join(", ")}: those NICs will not connect` : "";
  return { kind: "target_chosen", severity: missing.length ? "warning" : "info", message: `restarting the VM on ${placed.chosen}${lacks}`, fields: { target: placed.chosen, ranked: placed.ranked, rejected: placed.rejected, missing_networks: missing } };
}

function faultTypeOf(err: unknown): string | undefined {
  if (err instanceof TaskFailedError || err instanceof SoapFaultError) return err.faultType;
  return undefined;
}

/** The uuid question's "I moved it" choice, selected by its label (never by position). */
export function movedChoice(q: VmQuestion): string | undefined {
  return q.choices.find((c) => c.label === "button.uuid.movedTheVM")?.key ?? findChoice(q, /^I moved it$/i);
}

export async function runFailover(record: FailoverRecord, d: FailoverDeps): Promise<FailoverOutcome> {
  const now = d.now ?? Date.now;
  const sleep = d.sleep ?? defaultSleep;
  const { cfg, learned, clients } = d;
  const healthy = new Set(d.healthyHosts().filter((h) => h !== record.failedHost));

  // 1. Never power the VM on twice: is it running anywhere already?
  const scan = await scanCopies([...healthy], clients, learned);
  const running = scan.copies.find((c) => c.reg.powerState === "poweredOn");
  if (running) {
    d.logger.info("the VM already runs; nothing to power on", { host: running.host, vm: running.reg.ref.value });
    return { host: running.host, ref: running.reg.ref, vmxPath: running.reg.vmxPath ?? learned.vmxPath, alreadyRunning: true, powerOnAttempts: 0, uuid: running.reg.uuid };
  }

  // 2. The target: the one chosen before a restart if it still answers, else a fresh choice.
  let target = record.target && healthy.has(record.target) ? record.target : undefined;
  let facts: HostFacts | undefined;
  if (!target) {
    const placed = await planPlacement(cfg, learned, record.failedHost, clients, healthy);
    for (const r of placed.rejected) d.logger.info("candidate skipped", { host: r.host, reason: r.reason });
    if (!placed.chosen) {
      throw new FailoverError("no_candidate", `no host can take the VM: ${placed.rejected.map((r) => `${r.host}: ${r.reason}`).join("; ") || "no other host configured"}`);
    }
    target = placed.chosen;
    facts = placed.facts.get(target);
    d.emit(targetChosenEvent(placed));
  }
  if (record.target !== target) {
    const strays = record.target && record.targetVm ? [...new Set([...(record.strays ?? []), record.target])] : record.strays;
    record = { ...record, target, targetVm: undefined, phase: "fenced", ...(strays ? { strays } : {}) };
    d.persist(record);
  }
  const host = target;
  facts ??= await clients.use(host, readHostFacts);
  const path = rewriteDatastorePath(learned.vmxPath, learned.datastoreUrl, facts.datastores, host);
  const hostRef = facts.hostRef;

  // 3. Register unless a copy is there already (a previous attempt registered it).
  let copy = scan.copies.find((c) => c.host === host);
  let ref: MoRef;
  if (copy) {
    ref = copy.reg.ref;
    d.logger.info("the vmx is registered on the target already; reusing that registration", { host, vm: ref.value });
  } else {
    d.beforeStep?.(POWER_ON_STEP_MS + 5000, `registering the VM on ${host}`);
    try {
      ref = await clients.use(host, (c) => registerVm(c, { path, name: learned.vm, host: hostRef }, { signal: d.signal }));
    } catch (err) {
      if (faultTypeOf(err) !== "AlreadyExists") throw err;
      const again = await scanCopies([host], clients, learned);
      copy = again.copies[0];
      if (!copy) throw err;
      ref = copy.reg.ref;
    }
    d.emit({ kind: "registered", severity: "info", message: `registered ${path} on ${host}`, fields: { target: host, path, vm_ref: ref.value } });
  }
  record = { ...record, phase: "registered", targetVm: ref };
  d.persist(record);

  // 4. Power on, retrying while the old host's lock is still fresh.
  record = { ...record, phase: "powering_on" };
  d.persist(record);
  const onQuestion = (q: VmQuestion): string | undefined => {
    const choice = movedChoice(q);
    if (choice !== undefined) {
      d.emit({ kind: "question_answered", severity: "info", message: `answered "${q.text.slice(0, 120)}" with "I moved it"`, fields: { target: host, question: q.messageIds, choice } });
      return choice;
    }
    d.emit({ kind: "question_unanswered", severity: "error", message: `the VM asks a question esxkit does not answer: ${q.text.slice(0, 200)}`, fields: { target: host, question: q.messageIds } });
    return undefined;
  };
  const pending = copy?.reg.question;
  if (pending) {
    const choice = onQuestion(pending);
    if (choice === undefined) throw new FailoverError("question", `the copy on ${host} waits on a question esxkit does not answer`);
    d.beforeStep?.(POWER_ON_STEP_MS, `answering the power-on question on ${host}`);
    await clients.use(host, (c) => answerVm(c, ref, pending.id, choice));
    if (await waitPoweredOn(clients, host, ref, POWERED_ON_WAIT_MS, sleep, now, d.signal)) {
      return { host, ref, vmxPath: path, alreadyRunning: false, powerOnAttempts: 0, uuid: await readBiosUuid(clients, host, ref) };
    }
  }
  const attempts = await powerOnWithLockRetry(clients, host, ref, cfg.lock_retry_s * 1000, onQuestion, d, now, sleep);
  return { host, ref, vmxPath: path, alreadyRunning: false, powerOnAttempts: attempts, uuid: await readBiosUuid(clients, host, ref) };
}

/** The copy's BIOS uuid, to check that the VM kept its identity; undefined when unreadable. */
async function readBiosUuid(clients: HostClients, host: string, ref: MoRef): Promise<string | undefined> {
  return clients.use(host, async (c) => str((await retrieveOne(c, ref, ["config.uuid"]))["config.uuid"])).catch(() => undefined);
}

async function waitPoweredOn(clients: HostClients, host: string, ref: MoRef, ms: number, sleep: NonNullable<FailoverDeps["sleep"]>, now: () => number, signal?: AbortSignal): Promise<boolean> {
  const end = now() + ms;
  while (now() < end) {
    if ((await clients.use(host, (c) => getPowerState(c, ref))) === "poweredOn") return true;
    await sleep(250, signal);
  }
  return false;
}

async function powerOnWithLockRetry(
  clients: HostClients,
  host: string,
  ref: MoRef,
  lockRetryMs: number,
  onQuestion: (q: VmQuestion) => string | undefined,
  d: FailoverDeps,
  now: () => number,
  sleep: NonNullable<FailoverDeps["sleep"]>,
): Promise<number> {
  const deadline = now() + lockRetryMs;
  let backoff = 250;
  let attempts = 0;
  let toldLocked = false;
  for (;;) {
    attempts++;
    d.beforeStep?.(POWER_ON_STEP_MS, `powering the VM on on ${host}`);
    try {
      await clients.use(host, (c) => powerOnVm(c, ref, { onQuestion, timeoutMs: POWER_ON_TASK_TIMEOUT_MS, signal: d.signal }));
      return attempts;
    } catch (err) {
      const fault = faultTypeOf(err);
      if (fault === "InvalidPowerState" && (await clients.use(host, (c) => getPowerState(c, ref))) === "poweredOn") return attempts;
      if (fault !== "FileLocked") throw err;
      if (!toldLocked) {
        toldLocked = true;
        d.emit({ kind: "vmx_locked", severity: "warning", message: `the vmx is still locked (the old host may still hold it); retrying for up to ${lockRetryMs / 1000} s`, fields: { target: host } });
      }
      if (now() + backoff > deadline) {
        throw new FailoverError("lock_timeout", `the vmx stayed locked for ${lockRetryMs / 1000} s (lock_retry_s); the old host may still run the VM`, { cause: err });
      }
      d.logger.debug("vmx locked; retrying", { host, backoff_ms: backoff, attempt: attempts });
      await sleep(backoff, d.signal);
      backoff = Math.min(backoff * 2, 1000);
    }
  }
}
