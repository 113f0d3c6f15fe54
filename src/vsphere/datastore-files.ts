// Datastore files: vCenter's (or ESXi's) `/folder` HTTP interface for streaming a file in
// (PUT) and looking at it (HEAD), and FileManager for directories, moves and deletes.
//
// PUT https://<vc>/folder/<path>?dcPath=<datacenter path>&dsName=<datastore> with the SOAP
// session cookie, body streamed with backpressure (never held in memory). The upload has no
// total deadline; it fails when it stops moving: no chunk taken by the connection for
// `idleTimeoutMs`, or no response within `responseTimeoutMs` after the last byte.
import { DeadlineError, HttpStatusError, SoapFaultError, TaskFailedError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { arr, moref, str } from "./convert.ts";
import { retrieveOne, retrieveProperties } from "./properties.ts";
import type { MoRef } from "./soap/types.ts";
import { waitForTask } from "./tasks.ts";

/** A datacenter and its inventory path (the `dcPath` of /folder URLs: "DC0", "folder/DC1"). */
export interface DatacenterRef {
  ref: MoRef;
  path: string;
}

/** A file on a datastore. */
export interface DatastoreFile {
  datacenter: DatacenterRef;
  datastore: string;
  /** Path inside the datastore, "/"-separated, no leading slash: "esxkit-media/ab12.iso". */
  path: string;
}

/** "[ds] dir/file" (vim25's datastore path notation). */
export function datastorePath(f: Pick<DatastoreFile, "datastore" | "path">): string {
  return `[${f.datastore}] ${f.path}`;
}

/** Split "[ds] dir/file" into its datastore and path; undefined if it is not one. */
export function parseDatastorePath(p: string): { datastore: string; path: string } | undefined {
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(p);
  return m ? { datastore: m[1] as string, path: m[2] as string } : undefined;
}

function folderUrl(f: DatastoreFile): string {
  const path = f.path.split("/").map(encodeURIComponent).join("/");
  return `/folder/${path}?dcPath=${encodeURIComponent(f.datacenter.path)}&dsName=${encodeURIComponent(f.datastore)}`;
}

/** The datacenter an inventory object (VM, datastore) lives in, with its path from the root folder. */
export async function datacenterOf(client: VimClient, ref: MoRef): Promise<DatacenterRef> {
  let cur: MoRef | undefined = ref;
  let dc: MoRef | undefined;
  const names: string[] = [];
  const root = client.serviceContent.rootFolder;
  for (let depth = 0; cur && depth < 64; depth++) {
    if (cur.type === root.type && cur.value === root.value) break;
    const p = await retrieveOne(client, cur, ["name", "parent"]);
    if (cur.type === "Datacenter") dc = cur;
    if (dc) names.unshift(str(p.name) ?? cur.value);
    cur = moref(p.parent);
  }
  if (!dc) throw new SoapFaultError("NotFound", `${ref.type} ${ref.value} is not inside a datacenter`);
  return { ref: dc, path: names.join("/") };
}

/** The datastore of this name in the datacenter, or undefined. */
export async function findDatastore(client: VimClient, dc: MoRef, name: string): Promise<MoRef | undefined> {
  const p = await retrieveOne(client, dc, ["datastore"]);
  const refs = arr(p.datastore).map(moref).filter((r): r is MoRef => !!r);
  if (!refs.length) return undefined;
  const named = await retrieveProperties(client, { type: "Datastore", paths: ["name"], refs });
  return named.find((d) => str(d.props.name) === name)?.ref;
}

/** HEAD: the file's size, or undefined when it does not exist. */
export async function statDatastoreFile(client: VimClient, f: DatastoreFile, opts: { signal?: AbortSignal } = {}): Promise<{ size?: number } | undefined> {
  const timeout = client.endpoint.timeout_ms;
  const res = await client.httpRequest(folderUrl(f), { method: "HEAD", headersTimeoutMs: timeout, bodyTimeoutMs: timeout, signal: opts.signal });
  await res.body.dump().catch(() => undefined);
  if (res.statusCode === 404) return undefined;
  if (res.statusCode < 200 || res.statusCode > 299) {
    throw new HttpStatusError(res.statusCode, `${client.endpoint.name} HEAD ${datastorePath(f)}: HTTP ${res.statusCode}`);
  }
  const len = Number(res.headers["content-length"]);
  return Number.isSafeInteger(len) && len >= 0 ? { size: len } : {};
}

export interface UploadOptions {
  /** Content-Length, when known (vCenter also takes a chunked body). */
  length?: number;
  /** Longest time the connection may take no new chunk (the datastore side stalled). */
  idleTimeoutMs: number;
  /** Longest wait for the response after the last byte was sent. */
  responseTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Stream `body` into the datastore file (PUT /folder). Errors thrown by `body` itself (the
 * source failing) come back unchanged; the datastore side fails with HttpStatusError,
 * DeadlineError, ConnectError or a TLS error.
 */
export async function uploadDatastoreFile(client: VimClient, f: DatastoreFile, body: AsyncIterable<Uint8Array>, o: UploadOptions): Promise<void> {
  const what = `${client.endpoint.name} upload ${datastorePath(f)}`;
  const watchdog = new AbortController();
  let sourceError: unknown;
  let waitingForSink = false;
  let lastPull = Date.now();
  let sentAll = false;
  let sentAt = 0;
  let stalled: DeadlineError | undefined;
  async function* watched(): AsyncGenerator<Uint8Array> {
    const it = body[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (err) {
        sourceError = err;
        throw err;
      }
      if (r.done) break;
      waitingForSink = true;
      yield r.value;
      waitingForSink = false;
      lastPull = Date.now();
    }
    sentAll = true;
    sentAt = Date.now();
  }
  const timer = setInterval(() => {
    const now = Date.now();
    if (waitingForSink && now - lastPull > o.idleTimeoutMs) stalled = new DeadlineError(`${what} (datastore took no data)`, o.idleTimeoutMs);
    else if (sentAll && now - sentAt > o.responseTimeoutMs) stalled = new DeadlineError(`${what} (response after the upload)`, o.responseTimeoutMs);
    if (stalled) watchdog.abort(stalled);
  }, Math.min(1000, Math.max(50, Math.floor(Math.min(o.idleTimeoutMs, o.responseTimeoutMs) / 4))));
  const signal = o.signal ? AbortSignal.any([watchdog.signal, o.signal]) : watchdog.signal;
  try {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (o.length !== undefined) headers["content-length"] = String(o.length);
    let res;
    try {
      res = await client.httpRequest(folderUrl(f), { method: "PUT", headers, body: watched(), headersTimeoutMs: 0, bodyTimeoutMs: o.responseTimeoutMs, signal, what });
    } catch (err) {
      if (sourceError !== undefined) throw sourceError;
      if (stalled) throw stalled;
      throw err;
    }
    const text = await res.body.text().catch(() => "");
    if (sourceError !== undefined) throw sourceError;
    if (res.statusCode !== 200 && res.statusCode !== 201 && res.statusCode !== 204) {
      const excerpt = text.replace(/\s+/g, " ").trim().slice(0, 200);
      throw new HttpStatusError(res.statusCode, `${what}: HTTP ${res.statusCode}${excerpt ? `: ${excerpt}` : ""}`);
    }
  } finally {
    clearInterval(timer);
  }
}

async function fileManagerTask(client: VimClient, method: string, args: Record<string, unknown>, timeoutMs: number): Promise<void> {
  const fm = client.serviceContent.fileManager;
  if (!fm) throw new SoapFaultError("NotSupported", `${client.endpoint.name} has no FileManager`);
  const task = moref(await client.call(method, fm, args as never));
  if (!task) throw new Error(`${method} returned no task`);
  await waitForTask(client, task, { timeoutMs });
}

function faultOf(err: unknown): string | undefined {
  return err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
}

/** FileManager.MakeDirectory (with parents); an existing directory is fine. */
export async function makeDatastoreDirectory(client: VimClient, dir: Omit<DatastoreFile, "path"> & { path: string }): Promise<void> {
  const fm = client.serviceContent.fileManager;
  if (!fm) throw new SoapFaultError("NotSupported", `${client.endpoint.name} has no FileManager`);
  try {
    await client.call("MakeDirectory", fm, { name: datastorePath(dir), datacenter: dir.datacenter.ref, createParentDirectories: true });
  } catch (err) {
    if (faultOf(err) !== "FileAlreadyExists") throw err;
  }
}

/** FileManager.MoveDatastoreFile_Task, replacing the destination. */
export async function moveDatastoreFile(client: VimClient, from: DatastoreFile, to: DatastoreFile, timeoutMs = 60_000): Promise<void> {
  await fileManagerTask(client, "MoveDatastoreFile_Task", {
    sourceName: datastorePath(from),
    sourceDatacenter: from.datacenter.ref,
    destinationName: datastorePath(to),
    destinationDatacenter: to.datacenter.ref,
    force: true,
  }, timeoutMs);
}

/** FileManager.DeleteDatastoreFile_Task. Resolves false when the file was already gone. */
export async function deleteDatastoreFile(client: VimClient, f: DatastoreFile, timeoutMs = 60_000): Promise<boolean> {
  try {
    await fileManagerTask(client, "DeleteDatastoreFile_Task", { name: datastorePath(f), datacenter: f.datacenter.ref }, timeoutMs);
    return true;
  } catch (err) {
    if (faultOf(err) === "FileNotFound") return false;
    throw err;
  }
}
