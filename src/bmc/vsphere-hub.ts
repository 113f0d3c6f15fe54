// One hub per vCenter: shares the pooled session among all of that vCenter's BMCs, finds
// their VMs (one inventory read for any number of pending selectors), and keeps one
// WaitForUpdatesEx watch over all of them, so `power status` costs no vCenter request.
import type { VmSelector } from "../config/types.ts";
import { errorCode, SoapFaultError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { refKey } from "../vsphere/convert.ts";
import { type ObjectProps, retrieveProperties } from "../vsphere/properties.ts";
import { listVms, matchVm } from "../vsphere/search.ts";
import type { MoRef, SoapValue } from "../vsphere/soap/types.ts";
import { VM_BMC_PATHS } from "../vsphere/vm.ts";
import { PropertyWatch } from "../vsphere/watch.ts";
import { type ConnectionStatus, HubHealth } from "./hub-health.ts";

/** Direct power reads (when a BMC's state is stale) start at most this often per vCenter. */
export const POWER_READ_INTERVAL_MS = 1000;

/** What the hub needs from a VM backend. */
export interface HubMember {
  readonly selector: VmSelector;
  /** Staleness bound of this member's power state, ms. */
  readonly maxStalenessMs: number;
  /** The VM was found (or found again). */
  resolved(ref: MoRef): void;
  /** The VM could not be found; `err` says why (NotFoundError, AmbiguousError, connect errors). */
  unresolved(err: unknown): void;
  /** Watched properties changed (kind "leave": the VM left the inventory). */
  update(kind: "enter" | "modify" | "leave", props: Readonly<Record<string, SoapValue>>, changed: readonly string[]): void;
  /** A direct read found the VM in `state`; the state was current at `at` (ms since epoch) or later. */
  powerRead?(state: string, at: number): void;
}

export interface VsphereHubOptions {
  /** The vCenter's name in the config, for logs. */
  vcenter: string;
  /** The shared client (VimClientPool.get). */
  getClient: () => Promise<VimClient>;
  logger: Logger;
  /** Retry delays for finding VMs and (re)starting the watch. Default 1 s growing to 30 s. */
  retryMs?: { initial: number; max: number };
  /**
   * How long a VM no member uses stays in the watch (default 60 s), so that a BMC restarted
   * onto the same VM (a reload that changed only its port, say) finds its state at once.
   */
  idleUnwatchMs?: number;
}

export class VsphereHub {
  readonly vcenter: string;
  readonly #opts: VsphereHubOptions;
  readonly #logger: Logger;
  readonly #members = new Set<HubMember>();
  readonly #pending = new Set<HubMember>();
  /** refKey → members watching that VM (two BMCs may name one VM). */
  readonly #byRef = new Map<string, Set<HubMember>>();
  readonly #refOf = new Map<HubMember, MoRef>();
  /** VMs no member uses any more, still in the watch until their timer removes them. */
  readonly #idle = new Map<string, { ref: MoRef; timer: ReturnType<typeof setTimeout> }>();
  /**
   * VMs removed from the running watch. Its collector need not report them again when they
   * are added back (vcsim keeps them in its filter and never sends "enter"; vCenter may fold
   * a leave and an enter into nothing), so adding one back starts a fresh watch instead.
   */
  readonly #removed = new Set<string>();
  #watch?: PropertyWatch;
  #watchMaxWait = Number.POSITIVE_INFINITY;
  #watchStarting?: Promise<void>;
  #resolving?: Promise<void>;
  #retryTimer?: ReturnType<typeof setTimeout>;
  #retryDelay: number;
  #closed = false;
  readonly #health: HubHealth;
  /** VMs whose power state a BMC found stale: read directly, coalesced, rate-limited. */
  readonly #readWanted = new Map<string, MoRef>();
  #reading?: Promise<void>;
  #readTimer?: ReturnType<typeof setTimeout>;
  #lastReadAt = 0;
  #joinedDuringPass = false;

  constructor(opts: VsphereHubOptions) {
    this.#opts = opts;
    this.vcenter = opts.vcenter;
    this.#logger = opts.logger.child("bmc", { vcenter: opts.vcenter });
    this.#retryDelay = opts.retryMs?.initial ?? 1000;
    this.#health = new HubHealth(opts.vcenter, this.#logger);
  }

  /** The connection as `status` shows it: connected, last answer, last error. */
  connection(): ConnectionStatus {
    // A healthy watch answers at least every maxWaitSeconds; allow 5 s more for the round trip.
    const within = this.#watch ? this.#watchMaxWait * 1000 + 5000 : 60_000;
    return this.#health.snapshot(within);
  }

  /**
   * A member's power state is stale (its read is refused with 0xC3). Logged (aggregated), and
   * the VM's power state is read directly, so reads are answered again as soon as vCenter is.
   */
  staleRead(bmc: string, ref: MoRef): void {
    if (this.#closed) return;
    this.#health.staleRead(bmc, this.lastSyncAt());
    this.#readWanted.set(refKey(ref), ref);
    this.#scheduleRead();
  }

  #scheduleRead(): void {
    if (this.#reading || this.#readTimer || this.#closed || this.#readWanted.size === 0) return;
    // The timer also coalesces: every BMC asking in the same moment shares one read.
    const wait = Math.max(0, this.#lastReadAt + POWER_READ_INTERVAL_MS - Date.now());
    this.#readTimer = setTimeout(() => {
      this.#readTimer = undefined;
      this.#reading = this.#readPower().finally(() => {
        this.#reading = undefined;
        this.#scheduleRead();
      });
    }, wait);
    this.#readTimer.unref?.();
  }

  /** One RetrievePropertiesEx of runtime.powerState for every wanted VM. */
  async #readPower(): Promise<void> {
    const refs = [...this.#readWanted.values()];
    this.#readWanted.clear();
    // The answer is at least as new as the request: confirm from when it was sent.
    const sentAt = Date.now();
    this.#lastReadAt = sentAt;
    let found: ObjectProps[];
    try {
      const client = await this.#opts.getClient();
      found = await retrieveProperties(client, { type: "VirtualMachine", refs, paths: ["runtime.powerState"] });
    } catch (err) {
      if (err instanceof SoapFaultError) {
        // vCenter answered (a VM is gone, say): the watch reports that; nothing to confirm.
        this.#health.ok();
        this.#logger.debug("direct power read refused", { err });
        return;
      }
      this.#health.error(err);
      return;
    }
    this.#health.ok();
    for (const o of found) {
      const state = o.props["runtime.powerState"];
      if (typeof state !== "string") continue;
      for (const m of this.#byRef.get(refKey(o.ref)) ?? []) m.powerRead?.(state, sentAt);
    }
    this.#health.fresh();
    // The endpoint answers: the watch need not sit out its backoff or an overdue wait.
    this.#watch?.poke();
  }

  client(): Promise<VimClient> {
    return this.#opts.getClient();
  }

  /** When the watch last heard from vCenter (ms since epoch), or undefined. */
  lastSyncAt(): number | undefined {
    return this.#watch?.lastSyncAt;
  }

  /** Server-side wait of each WaitForUpdatesEx of the running watch, or undefined. */
  watchMaxWaitSeconds(): number | undefined {
    return this.#watch ? this.#watchMaxWait : undefined;
  }

  /** HTTP requests made by the watch (for the benchmark). */
  watchRequests(): number {
    return this.#watch?.requests ?? 0;
  }

  join(m: HubMember): void {
    this.#members.add(m);
    this.requestResolve(m);
  }

  async leave(m: HubMember): Promise<void> {
    this.#members.delete(m);
    this.#pending.delete(m);
    this.#release(m);
  }

  /** Find the member's VM (again). Coalesces: one inventory read serves every pending member. */
  requestResolve(m: HubMember): void {
    if (this.#closed || !this.#members.has(m)) return;
    this.#release(m);
    this.#pending.add(m);
    if (this.#resolving) this.#joinedDuringPass = true;
    queueMicrotask(() => void this.#resolvePending());
  }

  /** Forget the member's VM; the last member of a VM leaves it in the watch for a while. */
  #release(m: HubMember): void {
    const ref = this.#refOf.get(m);
    if (!ref) return;
    this.#refOf.delete(m);
    const key = refKey(ref);
    const set = this.#byRef.get(key);
    set?.delete(m);
    if (set?.size !== 0) return;
    this.#byRef.delete(key);
    if (this.#closed || this.#idle.has(key)) return;
    const timer = setTimeout(() => {
      this.#idle.delete(key);
      const watch = this.#watch;
      if (!watch || this.#byRef.has(key)) return;
      this.#removed.add(key);
      void watch.remove([ref]).catch((err) => this.#logger.debug("watch remove failed", { err }));
    }, this.#opts.idleUnwatchMs ?? 60_000);
    timer.unref?.();
    this.#idle.set(key, { ref, timer });
  }

  #clearIdle(): void {
    for (const { timer } of this.#idle.values()) clearTimeout(timer);
    this.#idle.clear();
  }

  async #resolvePending(): Promise<void> {
    if (this.#resolving || this.#closed || this.#pending.size === 0) return;
    this.#resolving = this.#resolveOnce().finally(() => {
      this.#resolving = undefined;
    });
    await this.#resolving;
    // Members that joined while that pass ran were not tried yet: no failure backoff for them.
    if (this.#joinedDuringPass) {
      this.#joinedDuringPass = false;
      return this.#resolvePending();
    }
    if (this.#pending.size > 0 && !this.#retryTimer && !this.#closed) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        void this.#resolvePending();
      }, this.#retryDelay);
      this.#retryTimer.unref?.();
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#opts.retryMs?.max ?? 30_000);
    }
  }

  async #resolveOnce(): Promise<void> {
    const batch = [...this.#pending];
    let client: VimClient;
    let vms: Awaited<ReturnType<typeof listVms>>;
    try {
      client = await this.#opts.getClient();
      vms = await listVms(client);
      this.#health.ok();
    } catch (err) {
      this.#health.error(err);
      this.#logger.warn("cannot list VMs; will retry", { err, pending: batch.length });
      for (const m of batch) m.unresolved(err);
      return;
    }
    const found: MoRef[] = [];
    for (const m of batch) {
      if (!this.#pending.has(m)) continue;
      try {
        const vm = matchVm(vms, m.selector, this.vcenter);
        this.#pending.delete(m);
        this.#refOf.set(m, vm.ref);
        const key = refKey(vm.ref);
        let set = this.#byRef.get(key);
        if (!set) {
          set = new Set();
          this.#byRef.set(key, set);
          const idle = this.#idle.get(key);
          if (idle) {
            // Still in the watch, which knows its state (delivered just below).
            clearTimeout(idle.timer);
            this.#idle.delete(key);
          } else {
            found.push(vm.ref);
          }
        }
        set.add(m);
        m.resolved(vm.ref);
        // The watch may already know this VM (another member shares it).
        const known = this.#watch?.get(vm.ref);
        if (known) m.update("enter", known, Object.keys(known));
      } catch (err) {
        // NotFoundError or AmbiguousError: both need the operator (or the inventory) to change.
        this.#logger.warn("VM not found; will retry", { selector: `${m.selector.by}=${m.selector.value}`, err, code: errorCode(err) });
        m.unresolved(err);
      }
    }
    if (this.#pending.size === 0) this.#retryDelay = this.#opts.retryMs?.initial ?? 1000;
    if (found.length) await this.#watchRefs(client, found);
  }

  /**
   * How long one WaitForUpdatesEx may wait: a healthy watch must hear from vCenter more often
   * than the smallest staleness bound. timeout_ms does not limit it: PropertyWatch gives each
   * poll a deadline of maxWaitSeconds plus timeout_ms, and the transport raises the header and
   * body timeouts of that request to its deadline.
   */
  #desiredMaxWait(): number {
    const staleness = Math.min(...[...this.#members].map((m) => m.maxStalenessMs));
    return Math.max(1, Math.min(30, Math.floor(staleness / 2000)));
  }

  async #watchRefs(client: VimClient, refs: MoRef[]): Promise<void> {
    if (this.#watchStarting) await this.#watchStarting.catch(() => undefined);
    const maxWaitSeconds = this.#desiredMaxWait();
    const readded = refs.some((r) => this.#removed.has(refKey(r)));
    if (this.#watch && this.#watchMaxWait <= maxWaitSeconds && !readded) {
      await this.#watch.add(refs).catch((err) => this.#logger.warn("watch add failed", { err }));
      this.#logger.info("watching VMs", { vms: this.#byRef.size, added: refs.length, maxWaitSeconds: this.#watchMaxWait });
      return;
    }
    // No watch yet, a new member needs fresher news than the running watch delivers, or a VM
    // comes back that the running watch would not report again. The old watch keeps serving
    // the other members until the new one has read every VM.
    const old = this.#watch;
    this.#clearIdle(); // the new watch holds only the VMs members use
    this.#removed.clear();
    const watch = new PropertyWatch(client, { kind: "list", type: "VirtualMachine", refs: [...this.#allRefs()] }, {
      paths: VM_BMC_PATHS,
      maxWaitSeconds,
      logger: this.#logger,
    });
    watch.onSync(() => {
      if (this.#watch !== watch) return;
      this.#health.ok();
      this.#health.fresh();
    });
    watch.onError((err) => {
      if (this.#watch === watch) this.#health.error(err);
    });
    watch.onUpdate((updates) => {
      for (const u of updates) {
        for (const m of this.#byRef.get(refKey(u.ref)) ?? []) {
          m.update(u.kind, u.props, u.changed);
          if (u.kind === "leave") this.requestResolve(m);
        }
      }
    });
    this.#watchStarting = watch.start().then(
      async () => {
        this.#watch = watch;
        this.#watchMaxWait = maxWaitSeconds;
        this.#logger.info("watching VMs", { vms: this.#byRef.size, added: refs.length, maxWaitSeconds });
        await old?.stop();
      },
      async (err: unknown) => {
        this.#watch = undefined;
        this.#health.error(err);
        await old?.stop();
        this.#logger.warn("cannot start the VM watch; will retry", { err });
        // Their state stays unknown until a watch runs: resolve everyone again, then retry.
        for (const m of this.#refOf.keys()) this.#pending.add(m);
        this.#refOf.clear();
        this.#byRef.clear();
      },
    );
    await this.#watchStarting;
    this.#watchStarting = undefined;
    // close() may have run while the watch was starting.
    if (this.#closed) await watch.stop();
  }

  *#allRefs(): IterableIterator<MoRef> {
    const seen = new Set<string>();
    for (const ref of this.#refOf.values()) {
      const k = refKey(ref);
      if (!seen.has(k)) {
        seen.add(k);
        yield ref;
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#readTimer);
    this.#clearIdle();
    await this.#resolving?.catch(() => undefined);
    await this.#watchStarting?.catch(() => undefined);
    await this.#reading;
    await this.#watch?.stop();
    this.#watch = undefined;
  }
}
