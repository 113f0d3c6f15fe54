// HostSystem reads for the doctor and the watchdog: product/build, feature capabilities,
// storage devices, services, firewall rulesets, datastores as the host sees them.
// Services and firewall come from config.service / config.firewall, the same data as
// HostServiceSystem.serviceInfo / HostFirewallSystem.firewallInfo, in one read.
import type { VimClient } from "./client.ts";
import { arr, bool, moref, num, obj, str } from "./convert.ts";
import { retrieveOne, retrieveProperties, type ObjectProps } from "./properties.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";
import type { DatastoreSummary } from "./vim-types.ts";

/** Host properties the doctor reads. */
export const HOST_DOCTOR_PATHS = [
  "name",
  "config.product",
  "config.featureCapability",
  "config.maskedFeatureCapability",
  "config.storageDevice",
  "config.fileSystemVolume",
  "summary",
  "runtime",
  "configIssue",
  "config.service",
  "config.firewall",
  "parent",
  "datastore",
];

/** All hosts with the given properties (default: name only). */
export async function listHosts(client: VimClient, paths: string[] = ["name"]): Promise<ObjectProps[]> {
  return retrieveProperties(client, { type: "HostSystem", paths });
}

/** Properties of one host (default HOST_DOCTOR_PATHS). Unset properties are absent. */
export async function getHostProperties(
  client: VimClient,
  host: MoRef,
  paths: string[] = HOST_DOCTOR_PATHS,
): Promise<Record<string, SoapValue>> {
  return retrieveOne(client, host, paths);
}

/** The only host of a standalone ESXi endpoint (ha-host), or the first host of a vCenter. */
export async function defaultHost(client: VimClient): Promise<MoRef> {
  const [h] = await listHosts(client, []);
  if (!h) throw new Error(`${client.endpoint.name}: no HostSystem in the inventory`);
  return h.ref;
}

export interface HostService {
  key: string;
  label: string;
  running: boolean;
  /** "on" | "off" | "automatic" */
  policy: string;
}

/** Host services (slpd, sfcbd-watchdog, TSM-SSH, …) from config.service (= HostServiceSystem.serviceInfo). */
export async function getHostServices(client: VimClient, host: MoRef): Promise<HostService[]> {
  const info = obj((await retrieveOne(client, host, ["config.service"]))["config.service"]);
  return arr(info.service).map((s) => {
    const o = obj(s);
    return { key: str(o.key) ?? "", label: str(o.label) ?? "", running: bool(o.running) ?? false, policy: str(o.policy) ?? "" };
  });
}

export interface FirewallRuleset {
  key: string;
  label: string;
  enabled: boolean;
}

/** Firewall rulesets (CIMSLP, sshServer, …) from config.firewall (= HostFirewallSystem.firewallInfo). */
export async function getFirewallRulesets(client: VimClient, host: MoRef): Promise<FirewallRuleset[]> {
  const info = obj((await retrieveOne(client, host, ["config.firewall"]))["config.firewall"]);
  return arr(info.ruleset).map((r) => {
    const o = obj(r);
    return { key: str(o.key) ?? "", label: str(o.label) ?? "", enabled: bool(o.enabled) ?? false };
  });
}

/** Datastores mounted on a host, with summary (name, url, accessible, …) as that host's endpoint reports them. */
export async function hostDatastores(client: VimClient, host: MoRef): Promise<DatastoreSummary[]> {
  const refs = arr((await retrieveOne(client, host, ["datastore"])).datastore)
    .map(moref)
    .filter((r): r is MoRef => !!r);
  const objs = await retrieveProperties(client, { type: "Datastore", paths: ["summary"], refs });
  return objs.map(({ ref, props }) => {
    const s = obj(props.summary);
    return {
      ref,
      name: str(s.name) ?? "",
      url: str(s.url) ?? "",
      type: str(s.type) ?? "",
      accessible: bool(s.accessible) ?? false,
      capacity: num(s.capacity) ?? 0,
      freeSpace: num(s.freeSpace) ?? 0,
      maintenanceMode: str(s.maintenanceMode),
    };
  });
}
