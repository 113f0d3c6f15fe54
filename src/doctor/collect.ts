// Reads the facts of one endpoint (vCenter or ESXi) into inventory records, and merges the
// records of several endpoints so a host seen through vCenter and directly counts once.
import type { VimClient } from "../vsphere/client.ts";
import { arr, bool, moref, obj, refKey, str } from "../vsphere/convert.ts";
import { retrieveOne, retrieveProperties, type ObjectProps } from "../vsphere/properties.ts";
import type { MoRef } from "../vsphere/soap/types.ts";
import { readRecentEvents, toEventFacts } from "./events.ts";
import type {
  ClusterFacts,
  DatastoreFacts,
  EndpointFacts,
  EventFacts,
  HostFacts,
  Inventory,
  ServiceFacts,
  VmFacts,
} from "./inventory.ts";

const HOST_PATHS = [
  "name",
  "config.product",
  "config.featureCapability",
  "config.storageDevice.hostBusAdapter",
  "config.storageDevice.scsiLun",
  "config.network.dnsConfig",
  "config.network.portgroup",
  "summary.hardware.uuid",
  "runtime.connectionState",
  "runtime.inMaintenanceMode",
  "configIssue",
  "configManager.serviceSystem",
  "configManager.firewallSystem",
  "parent",
  "datastore",
];

const VM_PATHS = ["name", "runtime.host", "runtime.powerState", "runtime.featureRequirement"];

/** Parallel per-host reads, bounded so a large vCenter is not flooded. */
const HOST_READ_CONCURRENCY = 8;

export interface EndpointReadout {
  endpoint: EndpointFacts;
  hosts: HostFacts[];
  vms: VmFacts[];
  clusters: ClusterFacts[];
  events: EventFacts[];
  /** Parts that could not be read ("events: NotImplemented: …"); the rest is still usable. */
  readErrors: string[];
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** key → value of a featureCapability / featureRequirement list. */
export function featureMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of arr(v)) {
    const o = obj(f);
    const key = str(o.key);
    if (key) out[key] = str(o.value) ?? "";
  }
  return out;
}

export function hostKeyOf(endpoint: string, ref: MoRef, hardwareUuid: string | undefined): string {
  return hardwareUuid ? `uuid:${hardwareUuid.toLowerCase()}` : `${endpoint}/${ref.value}`;
}

function fqdnOf(dns: unknown): string | undefined {
  const d = obj(dns);
  const host = str(d.hostName);
  const domain = str(d.domainName);
  if (!host) return undefined;
  return domain ? `${host}.${domain}` : host;
}

async function readServices(client: VimClient, sys: MoRef | undefined): Promise<ServiceFacts[] | undefined> {
  if (!sys) return undefined;
  try {
    const info = obj((await retrieveOne(client, sys, ["serviceInfo"])).serviceInfo);
    return arr(info.service).map((s) => {
      const o = obj(s);
      return { key: str(o.key) ?? "", running: bool(o.running) ?? false, policy: str(o.policy) ?? "" };
    });
  } catch {
    return undefined;
  }
}

async function readFirewall(client: VimClient, sys: MoRef | undefined): Promise<Record<string, boolean> | undefined> {
  if (!sys) return undefined;
  try {
    const info = obj((await retrieveOne(client, sys, ["firewallInfo"])).firewallInfo);
    const out: Record<string, boolean> = {};
    for (const r of arr(info.ruleset)) {
      const o = obj(r);
      const key = str(o.key);
      if (key) out[key] = bool(o.enabled) ?? false;
    }
    return out;
  } catch {
    return undefined;
  }
}

async function readDatastores(client: VimClient, hosts: ObjectProps[]): Promise<Map<string, DatastoreFacts>> {
  const refs = new Map<string, MoRef>();
  for (const h of hosts) for (const d of arr(h.props.datastore)) {
    const r = moref(d);
    if (r) refs.set(refKey(r), r);
  }
  const out = new Map<string, DatastoreFacts>();
  if (refs.size === 0) return out;
  const objs = await retrieveProperties(client, { type: "Datastore", paths: ["summary"], refs: [...refs.values()] });
  for (const { ref, props } of objs) {
    const s = obj(props.summary);
    out.set(refKey(ref), { name: str(s.name) ?? ref.value, url: str(s.url) ?? "", accessible: bool(s.accessible) ?? false, type: str(s.type) ?? "" });
  }
  return out;
}

/** Reads everything the checks need from one connected endpoint. */
export async function readEndpoint(client: VimClient, since: Date): Promise<EndpointReadout> {
  const name = client.endpoint.name;
  const about = client.about;
  const endpoint: EndpointFacts = {
    name,
    url: client.endpoint.url,
    kind: client.isVCenter ? "vcenter" : "esxi",
    version: about.version,
    build: about.build,
    fullName: about.fullName,
  };
  const readErrors: string[] = [];

  const clusterObjs = client.isVCenter ? await retrieveProperties(client, { type: "ClusterComputeResource", paths: ["name", "summary"] }) : [];
  const clusters: ClusterFacts[] = clusterObjs.map(({ ref, props }) => {
    const evc = str(obj(props.summary).currentEVCModeKey);
    return { endpoint: name, ref, name: str(props.name) ?? ref.value, ...(evc ? { evcMode: evc } : {}) };
  });
  const clusterByRef = new Map(clusters.map((c) => [refKey(c.ref), c]));

  const hostObjs = await retrieveProperties(client, { type: "HostSystem", paths: HOST_PATHS });
  const datastores = await readDatastores(client, hostObjs).catch((err) => {
    readErrors.push(`datastores: ${message(err)}`);
    return new Map<string, DatastoreFacts>();
  });

  const hosts = await mapLimit(hostObjs, HOST_READ_CONCURRENCY, async ({ ref, props }): Promise<HostFacts> => {
    const product = obj(props["config.product"]);
    const uuid = str(props["summary.hardware.uuid"]);
    const parent = moref(props.parent);
    const cluster = parent ? clusterByRef.get(refKey(parent)) : undefined;
    const storage = { hbas: arr(props["config.storageDevice.hostBusAdapter"]), luns: arr(props["config.storageDevice.scsiLun"]) };
    const [services, firewall] = await Promise.all([
      readServices(client, moref(props["configManager.serviceSystem"])),
      readFirewall(client, moref(props["configManager.firewallSystem"])),
    ]);
    const hostName = str(props.name) ?? ref.value;
    const h: HostFacts = {
      key: hostKeyOf(name, ref, uuid),
      endpoint: name,
      seenThrough: [{ endpoint: name, ref, name: hostName }],
      ref,
      name: hostName,
      version: str(product.version) ?? "",
      build: str(product.build) ?? "",
      hbas: storage.hbas.map((a) => {
        const o = obj(a);
        return { device: str(o.device) ?? "", driver: str(o.driver) ?? "", model: str(o.model) ?? "" };
      }),
      luns: storage.luns.map((l) => {
        const o = obj(l);
        return { canonicalName: str(o.canonicalName) ?? "", lunType: str(o.lunType) ?? "", displayName: str(o.displayName) ?? "" };
      }),
      configIssues: arr(props.configIssue).map((e) => ({ ...toEventFacts(e, name, true), hostName, hostRef: ref })),
      datastores: arr(props.datastore)
        .map(moref)
        .flatMap((r) => (r && datastores.has(refKey(r)) ? [datastores.get(refKey(r)) as DatastoreFacts] : [])),
      standardPortgroups: arr(props["config.network.portgroup"])
        .map((p) => str(obj(obj(p).spec).name))
        .filter((n): n is string => !!n),
    };
    const fqdn = fqdnOf(props["config.network.dnsConfig"]);
    if (fqdn) h.fqdn = fqdn;
    if (uuid) h.hardwareUuid = uuid;
    if (cluster) h.cluster = { ref: cluster.ref, name: cluster.name, ...(cluster.evcMode ? { evcMode: cluster.evcMode } : {}) };
    const cs = str(props["runtime.connectionState"]);
    if (cs) h.connectionState = cs;
    const mm = bool(props["runtime.inMaintenanceMode"]);
    if (mm !== undefined) h.inMaintenanceMode = mm;
    if (props["config.featureCapability"] !== undefined) h.featureCapability = featureMap(props["config.featureCapability"]);
    if (services) h.services = services;
    if (firewall) h.firewall = firewall;
    return h;
  });
  const hostByRef = new Map(hosts.map((h) => [refKey(h.ref), h]));

  const vmObjs = await retrieveProperties(client, { type: "VirtualMachine", paths: VM_PATHS });
  const vms: VmFacts[] = vmObjs.map(({ ref, props }) => {
    const hostRef = moref(props["runtime.host"]);
    const host = hostRef ? hostByRef.get(refKey(hostRef)) : undefined;
    const vm: VmFacts = { endpoint: name, ref, name: str(props.name) ?? ref.value, featureRequirement: featureMap(props["runtime.featureRequirement"]) };
    const ps = str(props["runtime.powerState"]);
    if (ps) vm.powerState = ps;
    if (host) {
      vm.hostKey = host.key;
      vm.hostName = host.name;
    }
    return vm;
  });

  let events: EventFacts[] = [];
  try {
    events = await readRecentEvents(client, since);
  } catch (err) {
    readErrors.push(`events: ${message(err)}`);
  }
  return { endpoint, hosts, vms, clusters, events, readErrors };
}

/**
 * Combine endpoint readouts. A host seen through vCenter and directly keeps the vCenter record
 * (it knows the cluster), completed with what only the direct view had.
 */
export function mergeReadouts(readouts: readonly EndpointReadout[], unreachable: Inventory["unreachable"] = []): Inventory {
  const ordered = [...readouts].sort((a, b) => (a.endpoint.kind === b.endpoint.kind ? 0 : a.endpoint.kind === "vcenter" ? -1 : 1));
  const hosts = new Map<string, HostFacts>();
  for (const r of ordered) {
    for (const h of r.hosts) {
      const seen = hosts.get(h.key);
      if (!seen) {
        hosts.set(h.key, { ...h, seenThrough: [...h.seenThrough] });
        continue;
      }
      seen.seenThrough.push(...h.seenThrough);
      seen.services ??= h.services;
      seen.firewall ??= h.firewall;
      seen.featureCapability ??= h.featureCapability;
      seen.fqdn ??= h.fqdn;
      for (const issue of h.configIssues) {
        if (!seen.configIssues.some((i) => i.eventTypeId === issue.eventTypeId && i.message === issue.message)) seen.configIssues.push(issue);
      }
    }
  }
  const vms: VmFacts[] = [];
  for (const r of ordered) {
    for (const vm of r.vms) {
      const dup = vm.hostKey !== undefined && vms.some((v) => v.hostKey === vm.hostKey && v.name === vm.name);
      if (!dup) vms.push(vm);
    }
  }
  return {
    endpoints: ordered.map((r) => r.endpoint),
    unreachable: [...unreachable],
    hosts: [...hosts.values()],
    vms,
    clusters: ordered.flatMap((r) => r.clusters),
    events: ordered.flatMap((r) => r.events),
    readErrors: ordered.flatMap((r) => r.readErrors.map((e) => `${r.endpoint.name}: ${e}`)),
  };
}
