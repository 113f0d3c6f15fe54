// Learning, while everything is healthy, what a failover will need once the VM's host is gone:
// where the VM runs and its power state, its vmx path, BIOS and instance uuid, its networks,
// and every host's name for each datastore (hosts may name the same datastore differently,
// so datastores are matched by URL).
import type { VimClient } from "../vsphere/client.ts";
import { arr, bool, moref, num, obj, str, toQuestion } from "../vsphere/convert.ts";
import { defaultHost, hostDatastores } from "../vsphere/host.ts";
import { retrieveOne, retrieveProperties } from "../vsphere/properties.ts";
import type { MoRef, SoapValue } from "../vsphere/soap/types.ts";
import type { PowerState, VmQuestion } from "../vsphere/vim-types.ts";
import { type DatastoreName, normalizeDatastoreUrl, parseDatastorePath } from "./datastore-path.ts";

/** The persisted picture of the protected VM. */
export interface LearnedVm {
  version: 1;
  vm: string;
  /** The [esxi.NAME] host the VM runs on (or is registered on, when powered off). */
  host: string;
  /** The VM's moref on that host. */
  ref: MoRef;
  powerState: PowerState;
  /** The vmx path as `host` names it: "[ds1] vcsa/vcsa.vmx". */
  vmxPath: string;
  /** URL of the datastore holding the vmx, the same on every host. */
  datastoreUrl: string;
  uuid?: string;
  instanceUuid?: string;
  networks: string[];
  /** Per host: the datastores it mounts, with its own names for them. */
  datastores: Record<string, DatastoreName[]>;
  learnedAt: string;
}

/** One VM registration as a host reports it. */
export interface Registration {
  ref: MoRef;
  name: string;
  vmxPath?: string;
  uuid?: string;
  instanceUuid?: string;
  powerState: PowerState;
  networks: MoRef[];
  question?: VmQuestion;
}

export const REGISTRATION_PATHS = ["name", "config.files.vmPathName", "config.uuid", "config.instanceUuid", "runtime.powerState", "network", "runtime.question"];

/** Every VM registered on the endpoint. */
export async function readRegistrations(client: VimClient): Promise<Registration[]> {
  const objs = await retrieveProperties(client, { type: "VirtualMachine", paths: REGISTRATION_PATHS });
  return objs.map(({ ref, props }) => ({
    ref,
    name: str(props.name) ?? ref.value,
    vmxPath: str(props["config.files.vmPathName"]),
    uuid: str(props["config.uuid"]),
    instanceUuid: str(props["config.instanceUuid"]),
    powerState: (str(props["runtime.powerState"]) ?? "poweredOff") as PowerState,
    networks: arr(props.network)
      .map(moref)
      .filter((r): r is MoRef => !!r),
    question: toQuestion(props["runtime.question"]),
  }));
}

/** Names of networks (standard or distributed portgroups). */
export async function networkNames(client: VimClient, refs: MoRef[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const objs = await retrieveProperties(client, { type: "Network", paths: ["name"], refs });
  return objs.map((o) => str(o.props.name) ?? o.ref.value).sort();
}

/** What placement needs to know about a host, read fresh. */
export interface HostFacts {
  hostRef: MoRef;
  connectionState?: string;
  inMaintenanceMode?: boolean;
  freeMemoryBytes?: number;
  datastores: DatastoreName[];
  networks: string[];
}

export async function readHostFacts(client: VimClient): Promise<HostFacts> {
  const hostRef = await defaultHost(client);
  const p: Record<string, SoapValue> = await retrieveOne(client, hostRef, [
    "runtime.connectionState",
    "runtime.inMaintenanceMode",
    "summary.hardware.memorySize",
    "summary.quickStats.overallMemoryUsage",
    "network",
  ]);
  const memory = num(p["summary.hardware.memorySize"]);
  const usedMb = num(p["summary.quickStats.overallMemoryUsage"]) ?? 0;
  const datastores = (await hostDatastores(client, hostRef)).map((d) => ({ name: d.name, url: d.url, accessible: d.accessible }));
  const nets = arr(p.network)
    .map(moref)
    .filter((r): r is MoRef => !!r);
  return {
    hostRef,
    connectionState: str(p["runtime.connectionState"]),
    inMaintenanceMode: bool(p["runtime.inMaintenanceMode"]),
    freeMemoryBytes: memory === undefined ? undefined : Math.max(0, memory - usedMb * 1024 * 1024),
    datastores,
    networks: await networkNames(client, nets),
  };
}

/** Is `reg` (on a host with `datastores`) the protected VM's vmx? Compared by datastore URL and file. */
export function sameVmx(reg: Pick<Registration, "vmxPath">, datastores: readonly DatastoreName[], datastoreUrl: string, vmxPath: string): boolean {
  if (!reg.vmxPath) return false;
  try {
    const mine = parseDatastorePath(reg.vmxPath);
    const theirs = parseDatastorePath(vmxPath);
    const ds = datastores.find((d) => d.name === mine.datastore);
    return !!ds && normalizeDatastoreUrl(ds.url) === normalizeDatastoreUrl(datastoreUrl) && mine.file === theirs.file;
  } catch {
    return false;
  }
}

/** One host's answer during learning. */
export interface HostView {
  host: string;
  datastores: DatastoreName[];
  registrations: Registration[];
}

export type LearnOutcome =
  | { kind: "learned"; host: string; reg: Registration; datastoreUrl: string }
  | { kind: "not_found"; message: string }
  | { kind: "split_brain"; hosts: string[] };

/**
 * Which registration is the protected VM, and where it runs. Before anything is learned the VM
 * is found by name; afterwards by its vmx file, so a renamed VM or a stale copy elsewhere does
 * not confuse it. Several registrations: the powered-on one wins; two powered on is split brain.
 */
export function locateVm(views: readonly HostView[], vmName: string, previous: LearnedVm | undefined, order: readonly string[]): LearnOutcome {
  const hits: { host: string; reg: Registration; datastoreUrl: string }[] = [];
  for (const v of views) {
    for (const reg of v.registrations) {
      if (previous) {
        if (sameVmx(reg, v.datastores, previous.datastoreUrl, previous.vmxPath)) hits.push({ host: v.host, reg, datastoreUrl: previous.datastoreUrl });
      } else if (reg.name === vmName && reg.vmxPath) {
        let url: string | undefined;
        try {
          const ds = parseDatastorePath(reg.vmxPath).datastore;
          url = v.datastores.find((d) => d.name === ds)?.url;
        } catch {
          url = undefined;
        }
        if (url) hits.push({ host: v.host, reg, datastoreUrl: url });
      }
    }
  }
  if (hits.length === 0) {
    const where = views.map((v) => v.host).join(", ") || "no reachable host";
    return { kind: "not_found", message: previous ? `the vmx ${previous.vmxPath} is registered on none of: ${where}` : `no VM named "${vmName}" on: ${where}` };
  }
  const on = hits.filter((h) => h.reg.powerState === "poweredOn");
  if (on.length > 1) return { kind: "split_brain", hosts: on.map((h) => h.host) };
  if (on[0]) return { kind: "learned", ...on[0] };
  // Powered off everywhere: stay with the host we knew, else the first in `order` (sorted by name).
  const rank = (h: string) => (order.indexOf(h) < 0 ? Number.MAX_SAFE_INTEGER : order.indexOf(h));
  const known = previous ? hits.find((h) => h.host === previous.host) : undefined;
  const pick = known ?? [...hits].sort((a, b) => rank(a.host) - rank(b.host))[0];
  return { kind: "learned", ...(pick as (typeof hits)[number]) };
}

/** Build the persisted picture from a located registration. */
export function toLearned(vmName: string, at: { host: string; reg: Registration; datastoreUrl: string }, networks: string[], views: readonly HostView[], previous: LearnedVm | undefined, now: number): LearnedVm {
  const datastores: Record<string, DatastoreName[]> = { ...(previous?.datastores ?? {}) };
  for (const v of views) datastores[v.host] = v.datastores;
  return {
    version: 1,
    vm: vmName,
    host: at.host,
    ref: at.reg.ref,
    powerState: at.reg.powerState,
    vmxPath: at.reg.vmxPath as string,
    datastoreUrl: at.datastoreUrl,
    uuid: at.reg.uuid ?? previous?.uuid,
    instanceUuid: at.reg.instanceUuid ?? previous?.instanceUuid,
    networks,
    datastores,
    learnedAt: new Date(now).toISOString(),
  };
}

/** Read one host's datastores and registrations. */
export async function viewHost(host: string, client: VimClient): Promise<HostView> {
  const hostRef = await defaultHost(client);
  const datastores = (await hostDatastores(client, hostRef)).map((d) => ({ name: d.name, url: d.url, accessible: d.accessible }));
  return { host, datastores, registrations: await readRegistrations(client) };
}

/** Does a persisted cache look like ours? (a cache of another VM or version is ignored) */
export function isLearnedVm(v: unknown, vmName: string): v is LearnedVm {
  const o = obj(v as SoapValue);
  return o.version === 1 && o.vm === vmName && typeof o.host === "string" && typeof o.vmxPath === "string" && typeof o.datastoreUrl === "string" && typeof o.datastores === "object";
}
