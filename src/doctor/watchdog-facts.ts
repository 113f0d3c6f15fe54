// Facts for check 5 (watchdog readiness) of one [[watchdog]]: where the protected VM is, its vmx
// datastore and NIC backings, what each candidate host sees, and whether each BMC answers.
import type { Config, PhysicalBmcConfig, WatchdogConfig } from "../config/types.ts";
import type { VimClient } from "../vsphere/client.ts";
import { arr, obj, str } from "../vsphere/convert.ts";
import { retrieveOne, retrieveProperties } from "../vsphere/properties.ts";
import type { DatastoreFacts, HostFacts, Inventory, VmFacts } from "./inventory.ts";
import type { SelfVm } from "./self-vm.ts";

export interface BmcAnswer {
  answered: boolean;
  /** What answered (or why not), for the evidence column. */
  detail: string;
  /** The BMC's System GUID bytes as sent (32 hex digits), when the session could read one. */
  guid?: string;
  /** Where the GUID came from: Get System GUID, or RAKP2 when the BMC refuses that command. */
  guidSource?: "get_system_guid" | "rakp2";
}

/** Asks one physical BMC whether it answers, within `timeoutMs`. Never throws. */
export type BmcProbe = (bmc: PhysicalBmcConfig, timeoutMs: number) => Promise<BmcAnswer>;

export interface NicFacts {
  label: string;
  backing: "standard" | "distributed" | "other";
  /** Standard portgroup name, or distributed portgroup name when known. */
  portgroup?: string;
  portgroupKey?: string;
  /** DVPortgroupConfigInfo.type: earlyBinding (static), lateBinding, ephemeral. */
  binding?: string;
  /** The backing's xsi:type, for "other". */
  backingType?: string;
}

export interface CandidateFacts {
  esxi: string;
  reachable: boolean;
  error?: string;
  host?: HostFacts;
  bmc?: { address: string; port: number; pinnedGuid?: string } & BmcAnswer;
}

export interface ProtectedVmFacts {
  vm: VmFacts;
  vmPathName?: string;
  /** The vmx's datastore as the VM's own host sees it. */
  datastore?: DatastoreFacts;
  datastoreName?: string;
  nics: NicFacts[];
}

export interface WatchdogFacts {
  name: string;
  vmName: string;
  candidates: CandidateFacts[];
  selfHost?: { esxi: string; host?: HostFacts };
  /** Without self_host: the VM this machine is (by MAC address), and the [esxi.NAME] of its host if configured. */
  selfVm?: SelfVm & { esxi?: string };
  vm?: ProtectedVmFacts;
  /** Reads that failed (NIC backings, portgroup binding), shown as evidence. */
  notes: string[];
}

/** The host record of an ESXi endpoint (the one host it shows). */
export function hostOfEndpoint(inv: Inventory, endpoint: string): HostFacts | undefined {
  return inv.hosts.find((h) => h.seenThrough.some((v) => v.endpoint === endpoint));
}

/** "[ds1] dir/vm.vmx" → "ds1" */
export function datastoreOfPath(path: string): string | undefined {
  return /^\[([^\]]+)\]/.exec(path)?.[1];
}

function pickVm(inv: Inventory, name: string, candidateEndpoints: string[]): VmFacts | undefined {
  const named = inv.vms.filter((v) => v.name === name);
  const score = (v: VmFacts) => (v.powerState === "poweredOn" ? 2 : 0) + (candidateEndpoints.includes(v.endpoint) ? 1 : 0);
  return named.sort((a, b) => score(b) - score(a))[0];
}

function nicOf(device: unknown): NicFacts | undefined {
  const d = obj(device);
  const backing = obj(d.backing);
  const type = str(backing.$type);
  if (!type || !/^VirtualEthernetCard/.test(type)) return undefined;
  const label = str(obj(d.deviceInfo).label) ?? `device ${str(d.key) ?? "?"}`;
  if (type === "VirtualEthernetCardNetworkBackingInfo") return { label, backing: "standard", portgroup: str(backing.deviceName) ?? "" };
  if (type === "VirtualEthernetCardDistributedVirtualPortBackingInfo") {
    const key = str(obj(backing.port).portgroupKey);
    return { label, backing: "distributed", ...(key ? { portgroupKey: key } : {}) };
  }
  return { label, backing: "other", backingType: type };
}

/** DistributedVirtualPortgroup key → {name, type}, from the first client that knows them. */
async function portgroupBindings(clients: VimClient[], keys: string[]): Promise<Map<string, { name: string; type?: string }>> {
  const out = new Map<string, { name: string; type?: string }>();
  for (const c of clients) {
    if (keys.every((k) => out.get(k)?.type)) break;
    const pgs = await retrieveProperties(c, { type: "DistributedVirtualPortgroup", paths: ["name", "key", "config.type"] }).catch(() => []);
    for (const { ref, props } of pgs) {
      const key = str(props.key) ?? ref.value;
      const type = str(props["config.type"]);
      if (!out.get(key)?.type) out.set(key, { name: str(props.name) ?? key, ...(type ? { type } : {}) });
    }
  }
  return out;
}

export interface WatchdogFactsInput {
  watchdog: WatchdogConfig;
  config: Config;
  inventory: Inventory;
  /** Connected clients by endpoint name. */
  clients: Map<string, VimClient>;
  probeBmc: BmcProbe;
  bmcTimeoutMs: number;
  /** The VM this machine is, when found (see self-vm.ts). */
  selfVm?: SelfVm;
}

export async function collectWatchdogFacts(input: WatchdogFactsInput): Promise<WatchdogFacts> {
  const { watchdog: w, config, inventory: inv, clients } = input;
  const notes: string[] = [];
  const candidates = await Promise.all(
    w.hosts.map(async (esxi): Promise<CandidateFacts> => {
      const c: CandidateFacts = { esxi, reachable: clients.has(esxi) };
      const down = inv.unreachable.find((u) => u.name === esxi);
      if (down) c.error = down.error;
      const host = hostOfEndpoint(inv, esxi);
      if (host) c.host = host;
      const bmc = config.esxi[esxi]?.bmc;
      if (bmc) c.bmc = { address: bmc.address, port: bmc.port, ...(bmc.guid ? { pinnedGuid: bmc.guid } : {}), ...(await input.probeBmc(bmc, input.bmcTimeoutMs)) };
      return c;
    }),
  );
  const facts: WatchdogFacts = { name: w.name, vmName: w.vm, candidates, notes };
  if (w.self_host) {
    const host = hostOfEndpoint(inv, w.self_host);
    facts.selfHost = { esxi: w.self_host, ...(host ? { host } : {}) };
  } else if (input.selfVm) {
    const key = input.selfVm.vm.hostKey;
    const esxi = Object.keys(config.esxi).find((name) => hostOfEndpoint(inv, name)?.key === key);
    facts.selfVm = { ...input.selfVm, ...(esxi ? { esxi } : {}) };
  }

  const vm = pickVm(inv, w.vm, w.hosts);
  if (!vm) return facts;
  const pv: ProtectedVmFacts = { vm, nics: [] };
  facts.vm = pv;
  const client = clients.get(vm.endpoint);
  if (!client) return facts;
  try {
    const props = await retrieveOne(client, vm.ref, ["config.files.vmPathName", "config.hardware.device"]);
    const path = str(props["config.files.vmPathName"]);
    if (path) {
      pv.vmPathName = path;
      const dsName = datastoreOfPath(path);
      if (dsName) {
        pv.datastoreName = dsName;
        const own = inv.hosts.find((h) => h.key === vm.hostKey);
        const ds = own?.datastores.find((d) => d.name === dsName);
        if (ds) pv.datastore = ds;
      }
    }
    pv.nics = arr(props["config.hardware.device"]).flatMap((d) => nicOf(d) ?? []);
  } catch (err) {
    notes.push(`reading ${vm.name} through ${vm.endpoint}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const dvKeys = pv.nics.flatMap((n) => (n.backing === "distributed" && n.portgroupKey ? [n.portgroupKey] : []));
  if (dvKeys.length) {
    // The VM's own endpoint first, then any vCenter: a host alone may not know the binding type.
    const order = [client, ...[...clients.values()].filter((c) => c !== client && c.isVCenter)];
    const bindings = await portgroupBindings(order, dvKeys);
    for (const n of pv.nics) {
      const b = n.portgroupKey ? bindings.get(n.portgroupKey) : undefined;
      if (!b) continue;
      n.portgroup = b.name;
      if (b.type) n.binding = b.type;
    }
  }
  return facts;
}
