// Datastore paths ("[ds1] vcsa/vcsa.vmx") and their translation between hosts.
// Hosts may name the same datastore differently, so a path learned on one host is carried
// over by the datastore's URL (ds:///vmfs/volumes/<uuid>/), which is the same everywhere.
import { FailoverError } from "../errors.ts";

export interface DatastorePath {
  datastore: string;
  /** The path inside the datastore, without a leading slash: "vcsa/vcsa.vmx". */
  file: string;
}

/** One datastore as one host names it. */
export interface DatastoreName {
  name: string;
  url: string;
  accessible?: boolean;
}

/** Parse "[ds1] dir/x.vmx". Names may contain spaces; the name ends at the first "]". */
export function parseDatastorePath(path: string): DatastorePath {
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(path.trim());
  if (!m || !m[2]) throw new FailoverError("bad_path", `not a datastore path: ${JSON.stringify(path)} (expected "[datastore] dir/file.vmx")`);
  return { datastore: m[1] as string, file: (m[2] as string).replace(/^\/+/, "") };
}

export function formatDatastorePath(p: DatastorePath): string {
  return `[${p.datastore}] ${p.file}`;
}

/** Datastore URLs compare without their trailing slash ("ds:///vmfs/volumes/x/" = "ds:///vmfs/volumes/x"). */
export function normalizeDatastoreUrl(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

/** The datastore among `list` with this URL, or undefined. */
export function datastoreByUrl(list: readonly DatastoreName[], url: string): DatastoreName | undefined {
  const want = normalizeDatastoreUrl(url);
  return list.find((d) => normalizeDatastoreUrl(d.url) === want);
}

/**
 * The vmx path as `hostDatastores`' host names it: same file, datastore found by URL.
 * Throws FailoverError("no_datastore") when that host does not mount the datastore.
 */
export function rewriteDatastorePath(vmxPath: string, datastoreUrl: string, hostDatastores: readonly DatastoreName[], host = "the host"): string {
  const p = parseDatastorePath(vmxPath);
  const ds = datastoreByUrl(hostDatastores, datastoreUrl);
  if (!ds) throw new FailoverError("no_datastore", `${host} does not mount the datastore ${datastoreUrl} that holds ${vmxPath}`);
  return formatDatastorePath({ datastore: ds.name, file: p.file });
}
