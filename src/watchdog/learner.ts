// Keeps the learned picture of the VM current: a full re-learn on a timer, and on change —
// a property watch on the VM's host flags one whenever VMs there change. The picture is
// persisted at every change (persist.ts) so a failover after a restart still has it.
import type { WatchdogConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { VimClient } from "../vsphere/client.ts";
import { PropertyWatch } from "../vsphere/watch.ts";
import type { HostClients } from "./hosts.ts";
import { type HostView, type LearnedVm, locateVm, networkNames, toLearned, viewHost } from "./learn.ts";
import type { WatchdogEvent } from "./notify.ts";
import { loadCache, saveCache } from "./persist.ts";
import type { SplitBrainTracker } from "./split-brain.ts";

export interface LearnerDeps {
  cfg: WatchdogConfig;
  clients: HostClients;
  log: Logger;
  stateDir: string;
  now: () => number;
  emit: (ev: WatchdogEvent) => void;
  /** Emit once until `clearAlert(key)`. */
  alertOnce: (key: string, ev: WatchdogEvent) => void;
  clearAlert: (key: string) => void;
  refreshMs: number;
  splitBrain: SplitBrainTracker;
  /** Split brain is over and the VM runs on `host`: the copies left on `others` are stray. */
  onSplitResolved: (host: string, others: string[]) => void;
}

/** The watch's retry warnings are expected while its host is down: keep them at debug. */
function quiet(log: Logger): Logger {
  return { ...log, warn: log.debug, info: log.debug, child: (sub, f) => quiet(log.child(sub, f)) };
}

export class Learner {
  learned: LearnedVm | undefined;
  readonly #d: LearnerDeps;
  #due = true;
  #last = 0;
  #running: Promise<void> | undefined;
  #watch: { host: string; client: VimClient; watch: PropertyWatch } | undefined;
  #stopped = false;
  /** The hosts of the split brain last seen, until one copy alone runs. */
  #splitHosts: string[] | undefined;

  constructor(d: LearnerDeps) {
    this.#d = d;
    this.learned = loadCache(d.stateDir, d.cfg.name, d.cfg.vm);
  }

  /** A learn is due: never done, flagged by the watch or a failover, or the refresh timer ran out. */
  get due(): boolean {
    return this.#due || !this.learned || this.#d.now() - this.#last >= this.#d.refreshMs;
  }

  /**
   * Learn from the hosts that answered their last probe, in the background. `isCurrent` says
   * whether the result may still be used (a failover that started meanwhile wins).
   */
  start(answering: string[], isCurrent: () => boolean): void {
    if (this.#running || this.#stopped) return;
    this.#due = false;
    this.#running = this.#learn(answering, isCurrent)
      .catch((err) => this.#d.log.warn("learning the VM's placement failed", { error: err }))
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Take `host` as the VM's new place (after a failover), persisted at once. */
  adopt(host: string, ref: LearnedVm["ref"], vmxPath: string): void {
    const prev = this.learned;
    if (!prev) return;
    this.learned = { ...prev, host, ref, vmxPath, powerState: "poweredOn", learnedAt: new Date(this.#d.now()).toISOString() };
    saveCache(this.#d.stateDir, this.#d.cfg.name, this.learned);
    this.#due = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#stopWatch();
  }

  async #learn(answering: string[], isCurrent: () => boolean): Promise<void> {
    const { cfg, clients, log } = this.#d;
    const views: HostView[] = [];
    await Promise.all(
      answering.map(async (h) => {
        try {
          views.push(await clients.use(h, (c) => viewHost(h, c)));
        } catch (err) {
          log.debug("host not readable while learning", { host: h, error: err });
        }
      }),
    );
    if (!isCurrent()) return;
    const previous = this.learned;
    const outcome = locateVm(views, cfg.vm, previous, [...cfg.hosts].sort());
    const previousHostSeen = !!previous && views.some((v) => v.host === previous.host);
    if (outcome.kind === "split_brain") {
      this.#splitHosts = [...outcome.hosts].sort();
      this.#d.splitBrain.report("learn", this.#splitHosts, `the VM is powered on on ${this.#splitHosts.join(" and ")}; power off the copy that must not run (esxkit takes no action meanwhile)`);
      return;
    }
    if (outcome.kind === "not_found") {
      // The VM's host not answering is the detector's business, not a lost VM.
      if (previous && !previousHostSeen) return;
      this.#d.alertOnce("not_found", { kind: "not_found", severity: "warning", message: outcome.message });
      return;
    }
    // With the VM's host unreachable, a powered-off registration elsewhere is a stale copy, not a move.
    if (previous && outcome.host !== previous.host && outcome.reg.powerState !== "poweredOn" && !previousHostSeen) return;
    const networks = await clients.use(outcome.host, (c) => networkNames(c, outcome.reg.networks)).catch(() => previous?.networks ?? []);
    const next = toLearned(cfg.vm, outcome, networks, views, previous, this.#d.now());
    if (!isCurrent()) return;
    this.#last = this.#d.now();
    this.learned = next;
    saveCache(this.#d.stateDir, cfg.name, next);
    this.#d.clearAlert("not_found");
    if (this.#splitHosts) {
      this.#d.splitBrain.clear("learn");
      this.#d.onSplitResolved(next.host, this.#splitHosts.filter((h) => h !== next.host));
      this.#splitHosts = undefined;
    }
    if (!previous || previous.host !== next.host || previous.powerState !== next.powerState || previous.vmxPath !== next.vmxPath) {
      this.#d.emit({
        kind: "learned",
        severity: "info",
        message: `the VM is ${next.powerState} on ${next.host} (${next.vmxPath})`,
        fields: { host: next.host, power_state: next.powerState, vmx: next.vmxPath, uuid: next.uuid, instance_uuid: next.instanceUuid, networks: next.networks },
      });
    }
    await this.#ensureWatch(next.host);
  }

  async #ensureWatch(host: string): Promise<void> {
    if (this.#watch?.host === host || this.#stopped) return;
    await this.#stopWatch();
    const { bmc: _bmc, ...endpoint } = this.#d.clients.endpoint(host);
    let client: VimClient | undefined;
    try {
      // Its own session: a long-poll must not hold up the calls a failover makes.
      client = await VimClient.connect(endpoint, { logger: quiet(this.#d.log) });
      const watch = new PropertyWatch(client, { kind: "container", type: "VirtualMachine" }, { paths: ["runtime.powerState", "config.files.vmPathName", "network"], maxWaitSeconds: 30, logger: quiet(this.#d.log) });
      await watch.start(); // the initial state is what we just learned: listen from here on
      watch.onUpdate((updates) => {
        if (updates.some((u) => u.kind !== "modify" || u.ref.value === this.learned?.ref.value)) this.#due = true;
      });
      this.#watch = { host, client, watch };
      if (this.#stopped) await this.#stopWatch();
    } catch (err) {
      if (client) void client.dropConnections();
      this.#d.log.debug("cannot watch the VM's host for changes; relying on the refresh timer", { host, error: err });
    }
  }

  async #stopWatch(): Promise<void> {
    const w = this.#watch;
    this.#watch = undefined;
    if (!w) return;
    await w.watch.stop().catch(() => undefined);
    void w.client.dropConnections();
  }
}
