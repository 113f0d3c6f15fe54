// What follows a failover, in the background of the probe rounds: unregistering the stale copy
// on a fenced host once it returns, posting the failover event to the host that now runs the
// VM, and to vCenter once it answers again (vCenter is often the VM that was down).
import type { EndpointConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { VimClient } from "../vsphere/client.ts";
import { postEvent } from "../vsphere/events.ts";
import type { HostClients } from "./hosts.ts";
import type { LearnedVm } from "./learn.ts";
import type { WatchdogEvent } from "./notify.ts";
import type { PendingEvent, PersistedState } from "./persist.ts";
import type { SplitBrainTracker } from "./split-brain.ts";
import { cleanStaleCopy } from "./stale.ts";

/** Deadline for posting an event to vCenter. */
const POST_EVENT_TIMEOUT_MS = 5000;
export const FAILOVER_EVENT_ID = "com.esxkit.watchdog.failover";

export interface AftercareDeps {
  clients: HostClients;
  log: Logger;
  vcenter?: EndpointConfig;
  state: () => PersistedState;
  persist: () => void;
  emit: (ev: WatchdogEvent) => void;
  alertOnce: (key: string, ev: WatchdogEvent) => void;
  splitBrain: SplitBrainTracker;
  now: () => number;
  /** Wait after a failed attempt to reach vCenter. */
  postRetryMs: number;
}

export class Aftercare {
  readonly #d: AftercareDeps;
  #cleaning: Promise<void> | undefined;
  #posting: Promise<void> | undefined;
  #nextPostAt = 0;
  #hostPosts = new Set<Promise<void>>();

  constructor(d: AftercareDeps) {
    this.#d = d;
  }

  /** Remember a fenced host whose copy of the VM must go once it is back. */
  addStale(host: string): void {
    const st = this.#d.state();
    if (!st.stale.some((s) => s.host === host)) st.stale.push({ host, since: new Date(this.#d.now()).toISOString() });
  }

  /** Unregister stale copies on the stale hosts that answer again (`up`). */
  cleanStale(learned: LearnedVm, up: (host: string) => boolean): void {
    if (this.#cleaning) return;
    const due = this.#d.state().stale.filter((s) => up(s.host));
    if (!due.length) return;
    const { clients, log } = this.#d;
    this.#cleaning = (async () => {
      for (const s of due) {
        try {
          const out = await cleanStaleCopy(s, learned, clients, log);
          if (out.kind === "wait") continue;
          const source = `stale:${s.host}`;
          if (out.kind === "split_brain") {
            this.#d.splitBrain.report(source, [s.host, learned.host], `${s.host} came back with the VM powered on while it runs on ${learned.host}`);
            continue;
          }
          this.#d.splitBrain.clear(source);
          const st = this.#d.state();
          st.stale = st.stale.filter((x) => x.host !== s.host);
          this.#d.persist();
          if (out.kind === "unregistered") {
            this.#d.emit({ kind: "stale_unregistered", severity: "info", message: `unregistered the stale copy on ${s.host} (UnregisterVM; files kept)`, fields: { host: s.host, refs: out.refs } });
          }
        } catch (err) {
          log.debug("stale copy cleanup failed; retrying next round", { host: s.host, error: err });
        }
      }
    })().finally(() => {
      this.#cleaning = undefined;
    });
  }

  /** Post the failover to the host now running the VM, and queue it for vCenter. */
  announceFailover(learned: LearnedVm, message: string): void {
    const p = this.#d.clients
      .use(learned.host, (c) => postEvent(c, { eventTypeId: FAILOVER_EVENT_ID, message, severity: "warning", vm: { name: learned.vm, ref: learned.ref } }))
      .catch((err) => this.#d.log.warn("could not post the failover event to the host", { host: learned.host, error: err }));
    this.#hostPosts.add(p);
    void p.finally(() => this.#hostPosts.delete(p));
    if (!this.#d.vcenter) return;
    const ev: PendingEvent = { eventTypeId: FAILOVER_EVENT_ID, message, severity: "warning", time: new Date(this.#d.now()).toISOString() };
    const st = this.#d.state();
    st.pendingEvents.push(ev);
    st.pendingEvents = st.pendingEvents.slice(-50);
    this.#d.persist();
  }

  /** Try to deliver queued events to vCenter (once per call at most; failures wait for the next). */
  postPending(): void {
    const vc = this.#d.vcenter;
    if (this.#posting || !vc || this.#d.state().pendingEvents.length === 0 || this.#d.now() < this.#nextPostAt) return;
    this.#posting = (async () => {
      const client = await VimClient.connect({ ...vc, timeout_ms: Math.min(vc.timeout_ms, POST_EVENT_TIMEOUT_MS) });
      try {
        for (let ev = this.#d.state().pendingEvents[0]; ev; ev = this.#d.state().pendingEvents[0]) {
          await postEvent(client, { eventTypeId: ev.eventTypeId, message: `${ev.message} (at ${ev.time})`, severity: ev.severity });
          this.#d.state().pendingEvents.shift();
          this.#d.persist();
        }
      } finally {
        await client.close();
      }
    })()
      .catch((err) => {
        this.#nextPostAt = this.#d.now() + this.#d.postRetryMs;
        this.#d.log.debug("vCenter not reachable for events yet; retrying later", { error: err, retry_ms: this.#d.postRetryMs });
      })
      .finally(() => {
        this.#posting = undefined;
      });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.#cleaning, this.#posting, ...this.#hostPosts]);
  }
}
