// Datastore files through the vim25 API: FileManager.MakeDirectory and a folder listing with
// HostDatastoreBrowser.SearchDatastore_Task. MakeDirectory of an existing path fails with
// FileAlreadyExists, atomically: on VMFS that holds across every host mounting the volume,
// which makes a directory usable as a cluster-wide lock.
import { SoapFaultError, TaskFailedError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { arr, moref, obj, str } from "./convert.ts";
import { retrieveOne } from "./properties.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";
import { waitForTask } from "./tasks.ts";

export function faultType(err: unknown): string | undefined {
  return err instanceof SoapFaultError || err instanceof TaskFailedError ? err.faultType : undefined;
}

/**
 * FileManager.MakeDirectory("[ds] dir/sub"). Without `createParents` the parent must exist and
 * an existing directory is a SoapFaultError with faultType "FileAlreadyExists".
 */
export async function makeDirectory(client: VimClient, path: string, opts: { createParents?: boolean; datacenter?: MoRef; signal?: AbortSignal } = {}): Promise<void> {
  const fm = client.serviceContent.fileManager;
  if (!fm) throw new Error(`${client.endpoint.name}: the service content has no fileManager`);
  const args: Record<string, SoapValue> = { name: path };
  if (opts.datacenter) args.datacenter = opts.datacenter;
  args.createParentDirectories = opts.createParents ?? false;
  await client.call("MakeDirectory", fm, args, { signal: opts.signal });
}

/** The names in the folder "[ds] dir" (files and folders), or undefined when it does not exist. */
export async function listFolder(client: VimClient, datastore: MoRef, path: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string[] | undefined> {
  const browser = moref((await retrieveOne(client, datastore, ["browser"])).browser);
  if (!browser) throw new Error(`${client.endpoint.name}: datastore ${datastore.value} has no browser`);
  const spec = { $type: "HostDatastoreBrowserSearchSpec", matchPattern: ["*"] };
  try {
    const task = moref(await client.call("SearchDatastore_Task", browser, { datastorePath: path, searchSpec: spec }, { signal: opts.signal }));
    if (!task) throw new Error("SearchDatastore_Task returned no task");
    const result = await waitForTask(client, task, { timeoutMs: opts.timeoutMs ?? client.endpoint.timeout_ms, signal: opts.signal });
    return arr(obj(result).file).flatMap((f) => str(obj(f).path) ?? []);
  } catch (err) {
    if (faultType(err) === "FileNotFound") return undefined;
    throw err;
  }
}
