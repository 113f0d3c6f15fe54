// SearchIndex lookups and VM lookup by name, BIOS uuid or instance uuid.
import type { VmSelector } from "../config/types.ts";
import { AmbiguousError, NotFoundError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { moref, str } from "./convert.ts";
import { retrieveProperties } from "./properties.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";
import type { PowerState } from "./vim-types.ts";

export interface FindByUuidOptions {
  /** Search VMs (true, default) or hosts (false). */
  vmSearch?: boolean;
  /** Treat `uuid` as config.instanceUuid rather than the BIOS uuid (VMs only). */
  instanceUuid?: boolean;
  /** Limit the search to one datacenter. */
  datacenter?: MoRef;
}

/** SearchIndex.FindByUuid: the first VM (or host) with that uuid, or undefined. */
export async function findByUuid(client: VimClient, uuid: string, opts: FindByUuidOptions = {}): Promise<MoRef | undefined> {
  const args: Record<string, SoapValue> = {};
  if (opts.datacenter) args.datacenter = opts.datacenter;
  args.uuid = uuid;
  args.vmSearch = opts.vmSearch ?? true;
  if (opts.instanceUuid !== undefined) args.instanceUuid = opts.instanceUuid;
  return moref(await client.call("FindByUuid", client.serviceContent.searchIndex, args));
}

/** SearchIndex.FindByDatastorePath: the VM registered with that vmx path ("[ds] dir/x.vmx"), or undefined. */
export async function findByDatastorePath(client: VimClient, datacenter: MoRef, path: string): Promise<MoRef | undefined> {
  return moref(await client.call("FindByDatastorePath", client.serviceContent.searchIndex, { datacenter, path }));
}

/** SearchIndex.FindByInventoryPath ("dc/vm/folder/name"), or undefined. */
export async function findByInventoryPath(client: VimClient, inventoryPath: string): Promise<MoRef | undefined> {
  return moref(await client.call("FindByInventoryPath", client.serviceContent.searchIndex, { inventoryPath }));
}

/** What identifies a VM, plus where it runs. */
export interface VmIdentity {
  ref: MoRef;
  name: string;
  /** BIOS uuid (config.uuid). */
  uuid?: string;
  instanceUuid?: string;
  powerState?: PowerState;
  /** runtime.host */
  host?: MoRef;
}

export const VM_IDENTITY_PATHS = ["name", "config.uuid", "config.instanceUuid", "runtime.powerState", "runtime.host"];

/** Every VM of the inventory with its identity (one paged property read). */
export async function listVms(client: VimClient): Promise<VmIdentity[]> {
  const objs = await retrieveProperties(client, { type: "VirtualMachine", paths: VM_IDENTITY_PATHS });
  return objs.map(({ ref, props }) => ({
    ref,
    name: str(props.name) ?? ref.value,
    uuid: str(props["config.uuid"]),
    instanceUuid: str(props["config.instanceUuid"]),
    powerState: str(props["runtime.powerState"]) as PowerState | undefined,
    host: moref(props["runtime.host"]),
  }));
}

/** Canonical uuid for comparison: lower-case hex without dashes or spaces. */
export function normalizeUuid(u: string): string {
  return u.replace(/[-\s]/g, "").toLowerCase();
}

/**
 * Pick the VM a selector names from a list (e.g. from listVms, so many selectors cost one read).
 * Throws NotFoundError, or AmbiguousError listing the candidates when several match.
 */
/** Lookup maps over one listing, built on first use: a daemon resolving thousands of BMCs against one listing does one pass, not one per BMC. */
const indexes = new WeakMap<VmIdentity[], Record<VmSelector["by"], Map<string, VmIdentity[]>>>();

function indexOf(vms: VmIdentity[]): Record<VmSelector["by"], Map<string, VmIdentity[]>> {
  let ix = indexes.get(vms);
  if (ix) return ix;
  ix = { name: new Map(), uuid: new Map(), instance_uuid: new Map() };
  const add = (m: Map<string, VmIdentity[]>, k: string, v: VmIdentity) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const v of vms) {
    add(ix.name, v.name, v);
    if (v.uuid !== undefined) add(ix.uuid, normalizeUuid(v.uuid), v);
    if (v.instanceUuid !== undefined) add(ix.instance_uuid, normalizeUuid(v.instanceUuid), v);
  }
  indexes.set(vms, ix);
  return ix;
}

export function matchVm(vms: VmIdentity[], selector: VmSelector, where = "the inventory"): VmIdentity {
  const hits = indexOf(vms)[selector.by].get(selector.by === "name" ? selector.value : normalizeUuid(selector.value)) ?? [];
  const label = selector.by === "name" ? `named "${selector.value}"` : `with ${selector.by} ${selector.value}`;
  if (hits.length === 0) throw new NotFoundError(`no VM ${label} in ${where}`);
  if (hits.length > 1) {
    const candidates = hits.map((v) => `${v.name} (${v.ref.value}, uuid ${v.uuid ?? "?"}, instance_uuid ${v.instanceUuid ?? "?"})`);
    throw new AmbiguousError(
      `${hits.length} VMs ${label} in ${where}: ${candidates.join("; ")}; select it by uuid or instance_uuid instead`,
      candidates,
    );
  }
  return hits[0] as VmIdentity;
}

/** Find one VM by name, BIOS uuid or instance uuid. Throws NotFoundError / AmbiguousError. */
export async function findVm(client: VimClient, selector: VmSelector): Promise<VmIdentity> {
  return matchVm(await listVms(client), selector, client.endpoint.name);
}
