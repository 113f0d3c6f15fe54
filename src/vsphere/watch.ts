// A WaitForUpdatesEx watch of chosen properties of many objects at once.
//
// Cost: setup is CreatePropertyCollector + one view + CreateFilter + the first
// WaitForUpdatesEx, whatever the number of objects; afterwards one WaitForUpdatesEx per batch
// of changes (or per maxWaitSeconds when nothing changes). Adding or removing objects of a
// list watch is one ModifyListView.
//
// The watch owns a private PropertyCollector, so its filter and version never interfere with
// other users of the session. Collector, view and filter die with the session: after a
// re-login (ours or another caller's) they are recreated and the state resynchronised.
import { SoapFaultError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "./client.ts";
import { arr, bool, moref, obj, refKey, str } from "./convert.ts";
import { createContainerView, createListView, viewFilterSpec } from "./properties.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";

export type WatchTarget =
  /** Every object of `type` below `root` (default rootFolder); new objects appear by themselves. */
  | { kind: "container"; type: string; root?: MoRef; recursive?: boolean }
  /** Exactly these objects; grow or shrink with add()/remove(). */
  | { kind: "list"; type: string; refs: MoRef[] };

export interface WatchOptions {
  /** Property paths to watch, e.g. ["name", "runtime.powerState", "config.bootOptions"]. */
  paths: string[];
  /** Server-side wait per WaitForUpdatesEx. Default 30 s; the HTTP deadline is this plus timeout_ms. */
  maxWaitSeconds?: number;
  /** First and largest retry delay after an error. Default 500 ms and 30 s. */
  backoffMs?: { initial: number; max: number };
  logger?: Logger;
}

export type UpdateKind = "enter" | "modify" | "leave";

export interface ObjectUpdate {
  ref: MoRef;
  kind: UpdateKind;
  /** Paths whose value changed in this update. */
  changed: string[];
  /** The object's full watched state after this update (empty for "leave"). */
  props: Readonly<Record<string, SoapValue>>;
}

interface Entry {
  ref: MoRef;
  props: Record<string, SoapValue>;
}

const DEFAULT_BACKOFF = { initial: 500, max: 30_000 };

export class PropertyWatch {
  readonly client: VimClient;
  readonly target: WatchTarget;
  readonly paths: string[];
  /** HTTP requests this watch has made (for benchmarks). */
  requests = 0;
  /** Time (ms since epoch) of the last successful WaitForUpdatesEx, answered or timed out. */
  lastSyncAt: number | undefined;
  /** The last error, cleared by the next successful round. */
  lastError: unknown;

  #opts: Required<Pick<WatchOptions, "maxWaitSeconds" | "backoffMs">>;
  #logger: Logger | undefined;
  #objects = new Map<string, Entry>();
  #listeners = new Set<(updates: ObjectUpdate[]) => void>();
  #errorListeners = new Set<(err: unknown) => void>();
  #syncListeners = new Set<() => void>();
  /** Cuts a backoff sleep short (poke()). */
  #wake = new AbortController();
  /** After an error: the next round asks with maxWaitSeconds 0, so news of recovery is immediate. */
  #quick = false;
  /** When the WaitForUpdatesEx in flight was sent, and whether poke() aborted it. */
  #roundSentAt = 0;
  #poked = false;
  #collector?: MoRef;
  #view?: MoRef;
  #version = "";
  #generation = -1;
  #listRefs: Map<string, MoRef>;
  #stop = new AbortController();
  /** Aborts the WaitForUpdatesEx in flight when the session it belongs to was replaced. */
  #roundAbort?: AbortController;
  #unsubscribeLogin: () => void = () => undefined;
  /** Set when the view's content is uncertain; the loop then rebuilds collector, view and filter. */
  #rebuild = false;
  #loop?: Promise<void>;
  /** refs seen during a full resync (version ""), to drop objects that vanished meanwhile. */
  #resyncSeen?: Set<string>;

  constructor(client: VimClient, target: WatchTarget, opts: WatchOptions) {
    this.client = client;
    this.target = target;
    this.paths = opts.paths;
    this.#opts = { maxWaitSeconds: opts.maxWaitSeconds ?? 30, backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF };
    this.#logger = opts.logger;
    this.#listRefs = new Map(target.kind === "list" ? target.refs.map((r) => [refKey(r), r]) : []);
  }

  /** Listen for batches of updates. Returns an unsubscribe function. */
  onUpdate(listener: (updates: ObjectUpdate[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listen for errors; the watch keeps retrying with backoff regardless. */
  onError(listener: (err: unknown) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** Listen for successful rounds (the endpoint answered). Returns an unsubscribe function. */
  onSync(listener: () => void): () => void {
    this.#syncListeners.add(listener);
    return () => this.#syncListeners.delete(listener);
  }

  /**
   * Someone else just heard from the endpoint (a direct read answered): end a backoff sleep
   * now, and give up a wait that is overdue (sent before an outage, it would hold on for
   * another maxWaitSeconds after the server resumed), so the watch catches up at once.
   */
  poke(): void {
    this.#wake.abort();
    this.#wake = new AbortController();
    const overdueMs = this.#opts.maxWaitSeconds * 1000 + 1000;
    if (this.#roundAbort && Date.now() - this.#roundSentAt > overdueMs) {
      this.#poked = true;
      this.#roundAbort.abort();
    }
  }

  /** Current watched state of one object, or undefined if not (or not yet) known. */
  get(ref: MoRef): Readonly<Record<string, SoapValue>> | undefined {
    return this.#objects.get(refKey(ref))?.props;
  }

  /** All objects currently known. */
  *objects(): IterableIterator<{ ref: MoRef; props: Readonly<Record<string, SoapValue>> }> {
    for (const e of this.#objects.values()) yield e;
  }

  get size(): number {
    return this.#objects.size;
  }

  /**
   * Set up collector, view and filter and read the initial state (delivered to listeners as
   * "enter" updates before this resolves), then keep watching in the background.
   * Rejects if the first setup fails; later failures are retried.
   */
  async start(): Promise<void> {
    if (this.#loop) throw new Error("PropertyWatch already started");
    // A re-login by any caller of this client kills our collector; stop waiting on it.
    this.#unsubscribeLogin = this.client.onLogin(() => {
      if (this.#generation !== this.client.sessionGeneration) this.#roundAbort?.abort();
    });
    try {
      await this.#setup();
      await this.#round();
    } catch (err) {
      this.#unsubscribeLogin();
      await this.#teardown();
      throw err;
    }
    this.#loop = this.#run();
  }

  /** Stop watching: abort the pending wait and destroy collector and view. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    this.#unsubscribeLogin();
    await this.#loop;
    await this.#teardown();
  }

  /**
   * Add objects to a list watch (one ModifyListView). They arrive as "enter" updates. Objects
   * that do not exist are dropped (reported through onError); any other failure makes the
   * watch rebuild its view with the full list.
   */
  async add(refs: MoRef[]): Promise<void> {
    if (this.target.kind !== "list") throw new Error("add() needs a list watch");
    const fresh = refs.filter((r) => !this.#listRefs.has(refKey(r)));
    for (const r of fresh) this.#listRefs.set(refKey(r), r);
    await this.#modifyList("add", fresh);
  }

  /** Remove objects from a list watch (one ModifyListView); emits "leave" for known ones. */
  async remove(refs: MoRef[]): Promise<void> {
    if (this.target.kind !== "list") throw new Error("remove() needs a list watch");
    const gone = refs.filter((r) => this.#listRefs.delete(refKey(r)));
    await this.#modifyList("remove", gone);
    const updates: ObjectUpdate[] = [];
    for (const r of gone) if (this.#objects.delete(refKey(r))) updates.push({ ref: r, kind: "leave", changed: [], props: {} });
    this.#emit(updates);
  }

  async #modifyList(op: "add" | "remove", refs: MoRef[]): Promise<void> {
    const view = this.#view;
    if (!refs.length || !view || this.#generation !== this.client.sessionGeneration) return; // the next setup uses #listRefs
    this.requests++;
    try {
      await this.client.call("ModifyListView", view, { [op]: refs }, { relogin: false });
    } catch (err) {
      const missing = missingObject(err);
      if (op === "add" && missing && this.#listRefs.delete(refKey(missing))) {
        this.#report(err);
        return this.#modifyList(op, refs.filter((r) => refKey(r) !== refKey(missing)));
      }
      // Unknown state of the view: rebuild it from #listRefs.
      this.#report(err);
      this.#rebuild = true;
      this.#roundAbort?.abort();
    }
  }

  /** Collector, view and filter in the current session; a partial setup is torn down again. */
  async #setup(): Promise<void> {
    const c = this.client;
    await this.#teardown(); // what an earlier attempt left in a still-valid session
    this.#generation = c.sessionGeneration;
    this.#rebuild = false;
    this.#version = "";
    try {
      this.requests++;
      this.#collector = moref(await c.call("CreatePropertyCollector", c.serviceContent.propertyCollector));
      if (!this.#collector) throw new Error("CreatePropertyCollector returned nothing");
      const t = this.target;
      this.requests++;
      this.#view =
        t.kind === "container"
          ? await createContainerView(c, t.root ?? c.serviceContent.rootFolder, [t.type], t.recursive ?? true)
          : await this.#createListView();
      this.requests++;
      await c.call("CreateFilter", this.#collector, {
        spec: viewFilterSpec(this.#view, t.type, this.paths),
        partialUpdates: false,
      });
    } catch (err) {
      await this.#teardown();
      throw err;
    }
  }

  /** CreateListView over #listRefs, dropping objects the server says do not exist (deleted VMs). */
  async #createListView(): Promise<MoRef> {
    for (;;) {
      try {
        return await createListView(this.client, [...this.#listRefs.values()]);
      } catch (err) {
        const missing = missingObject(err);
        if (!missing || !this.#listRefs.delete(refKey(missing))) throw err;
        this.#report(err);
        if (this.#objects.delete(refKey(missing))) this.#emit([{ ref: missing, kind: "leave", changed: [], props: {} }]);
      }
    }
  }

  async #teardown(): Promise<void> {
    const deadlineMs = Math.min(this.client.endpoint.timeout_ms, 5000);
    if (this.#collector && this.#generation === this.client.sessionGeneration) {
      await this.client.call("DestroyPropertyCollector", this.#collector, {}, { deadlineMs, relogin: false }).catch(() => undefined);
      if (this.#view) await this.client.call("DestroyView", this.#view, {}, { deadlineMs, relogin: false }).catch(() => undefined);
    }
    this.#collector = undefined;
    this.#view = undefined;
  }

  /** One WaitForUpdatesEx; applies and emits what it returns. */
  async #round(): Promise<void> {
    const collector = this.#collector;
    if (!collector) throw new Error("watch not set up");
    const maxWait = this.#quick ? 0 : this.#opts.maxWaitSeconds;
    if (this.#version === "") this.#resyncSeen = new Set();
    this.requests++;
    const abort = new AbortController();
    this.#roundAbort = abort;
    this.#roundSentAt = Date.now();
    let res: SoapValue;
    try {
      res = await this.client.call(
        "WaitForUpdatesEx",
        collector,
        { version: this.#version, options: { maxWaitSeconds: maxWait } },
        {
          deadlineMs: maxWait * 1000 + this.client.endpoint.timeout_ms,
          signal: AbortSignal.any([this.#stop.signal, abort.signal]),
          relogin: false,
          longHeld: maxWait > 0,
        },
      );
    } finally {
      this.#roundAbort = undefined;
    }
    this.lastSyncAt = Date.now();
    this.lastError = undefined;
    this.#quick = false;
    for (const l of this.#syncListeners) l();
    if (res === undefined || res === null) return; // maxWaitSeconds passed without changes
    const set = obj(res);
    this.#version = str(set.version) ?? this.#version;
    const updates: ObjectUpdate[] = [];
    for (const fu of arr(set.filterSet)) {
      for (const ou of arr(obj(fu).objectSet)) {
        const u = this.#apply(obj(ou));
        if (u) updates.push(u);
      }
    }
    if (!bool(set.truncated) && this.#resyncSeen) {
      for (const [key, e] of this.#objects) {
        if (!this.#resyncSeen.has(key)) {
          this.#objects.delete(key);
          updates.push({ ref: e.ref, kind: "leave", changed: [], props: {} });
        }
      }
      this.#resyncSeen = undefined;
    }
    this.#emit(updates);
    if (bool(set.truncated)) await this.#round();
  }

  #apply(ou: Record<string, SoapValue>): ObjectUpdate | undefined {
    const ref = moref(ou.obj);
    if (!ref) return undefined;
    const key = refKey(ref);
    const kind = (str(ou.kind) ?? "modify") as UpdateKind;
    if (kind === "leave") {
      if (!this.#objects.delete(key)) return undefined;
      return { ref, kind, changed: [], props: {} };
    }
    this.#resyncSeen?.add(key);
    let entry = this.#objects.get(key);
    const isNew = !entry;
    if (!entry) {
      entry = { ref, props: {} };
      this.#objects.set(key, entry);
    }
    const changed: string[] = [];
    for (const pc of arr(ou.changeSet)) {
      const c = obj(pc);
      const name = str(c.name);
      if (name === undefined) continue;
      const op = str(c.op);
      if (op === "remove" || op === "indirectRemove" || c.val === undefined) delete entry.props[name];
      else entry.props[name] = c.val;
      changed.push(name);
    }
    return { ref, kind: isNew ? "enter" : kind, changed, props: entry.props };
  }

  #emit(updates: ObjectUpdate[]): void {
    if (!updates.length) return;
    for (const l of this.#listeners) {
      try {
        l(updates);
      } catch (err) {
        this.#logger?.error("watch listener threw", { err });
      }
    }
  }

  async #run(): Promise<void> {
    const backoff = this.#opts.backoffMs;
    let delay = backoff.initial;
    while (!this.#stop.signal.aborted) {
      try {
        if (this.#generation !== this.client.sessionGeneration || !this.#collector || this.#rebuild) {
          await this.#setup();
        }
        await this.#round();
        delay = backoff.initial;
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        // A new session, a rebuild we asked for, or an overdue wait given up: no backoff, no error report.
        if (this.#generation !== this.client.sessionGeneration || this.#rebuild) continue;
        if (this.#poked) {
          this.#poked = false;
          this.#quick = true;
          continue;
        }
        this.lastError = err;
        this.#quick = true;
        const faultType = err instanceof SoapFaultError ? err.faultType : undefined;
        if (faultType === "NotAuthenticated") {
          // Our session died: log in again (shared with other callers), then rebuild.
          await this.client.ensureSession(this.#generation).catch((e) => this.#report(e));
          this.#collector = undefined;
        } else if (faultType === "InvalidCollectorVersion") {
          this.#version = "";
          continue;
        } else if (faultType === "ManagedObjectNotFound") {
          this.#collector = undefined;
        }
        this.#report(err);
        await sleep(delay, AbortSignal.any([this.#stop.signal, this.#wake.signal]));
        delay = Math.min(delay * 2, backoff.max);
      }
    }
  }

  #report(err: unknown): void {
    this.#logger?.warn("property watch error; retrying", { err });
    for (const l of this.#errorListeners) l(err);
  }
}

/** The object a ManagedObjectNotFound fault names, if that is what `err` is. */
function missingObject(err: unknown): MoRef | undefined {
  return err instanceof SoapFaultError && err.faultType === "ManagedObjectNotFound" ? moref(err.detail.obj) : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
