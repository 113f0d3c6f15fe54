// Systems, ComputerSystem (GET, PATCH Boot with If-Match), Reset, EthernetInterfaces,
// SimpleStorage and SecureBoot.
import { RedfishRequestError } from "../../errors.ts";
import type { RequestContext, Route } from "../context.ts";
import { checkKeys, checkParams, collection, enumValue, etagOf, ifMatchOk, type Json, link, param, resource, ROOT } from "../json.ts";
import { fail } from "../messages.ts";
import { BOOT_ENABLED, BOOT_MODES, BOOT_TARGETS, type BootPatch, RESET_TYPES, type RedfishSystem, type SystemDetails } from "../provider.ts";

export const systemUri = (s: RedfishSystem) => `${ROOT}/Systems/${encodeURIComponent(s.id())}`;
export const managerUri = (s: RedfishSystem) => `${ROOT}/Managers/${encodeURIComponent(s.id())}`;

export function findSystem(ctx: RequestContext): RedfishSystem {
  const id = ctx.params.id as string;
  const all = ctx.env.provider.systems();
  const s = all.find((x) => x.id() === id) ?? all.find((x) => x.matches(id));
  if (!s) throw fail.notFound(ctx.path);
  return s;
}

const STATUS_OK = { State: "Enabled", Health: "OK" };

function systemBody(s: RedfishSystem, d: SystemDetails): Json {
  const uri = systemUri(s);
  const b = d.boot;
  const power = s.powerState();
  return resource("#ComputerSystem.v1_16_0.ComputerSystem", uri, s.id(), s.name, {
    SystemType: "Virtual",
    Manufacturer: "VMware, Inc.",
    Model: d.model ?? "VMware Virtual Platform",
    ...(d.uuid ? { UUID: d.uuid } : {}),
    PowerState: power ?? null,
    Status: power === undefined ? { State: "UnavailableOffline", Health: "Warning" } : STATUS_OK,
    ProcessorSummary: { Count: d.processors, LogicalProcessorCount: d.processors, Status: STATUS_OK },
    MemorySummary: { TotalSystemMemoryGiB: d.memoryGiB, Status: STATUS_OK },
    Boot: {
      BootSourceOverrideTarget: b.target,
      "BootSourceOverrideTarget@Redfish.AllowableValues": b.allowedTargets,
      BootSourceOverrideEnabled: b.enabled,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": [...BOOT_ENABLED],
      ...(b.mode ? { BootSourceOverrideMode: b.mode } : {}),
      "BootSourceOverrideMode@Redfish.AllowableValues": b.allowedModes,
    },
    Processors: link(`${uri}/Processors`),
    EthernetInterfaces: link(`${uri}/EthernetInterfaces`),
    SimpleStorage: link(`${uri}/SimpleStorage`),
    ...(d.secureBoot !== undefined ? { SecureBoot: link(`${uri}/SecureBoot`) } : {}),
    VirtualMedia: link(`${uri}/VirtualMedia`),
    Links: { ManagedBy: [link(managerUri(s))] },
    Actions: {
      "#ComputerSystem.Reset": { target: `${uri}/Actions/ComputerSystem.Reset`, "ResetType@Redfish.AllowableValues": s.resetTypes() },
    },
  });
}

async function getSystem(ctx: RequestContext) {
  const s = findSystem(ctx);
  return { body: systemBody(s, await s.details()) };
}

const BOOT_KEYS = ["BootSourceOverrideTarget", "BootSourceOverrideEnabled", "BootSourceOverrideMode"];

async function patchSystem(ctx: RequestContext) {
  const s = findSystem(ctx);
  const body = checkKeys(ctx.body, ["Boot"]);
  const before = await s.details();
  const etag = etagOf(systemBody(s, before));
  if (!ifMatchOk(ctx.headers.get("if-match"), etag)) {
    throw new RedfishRequestError(412, "PreconditionFailed", "The ETag in If-Match does not match the resource's current ETag; read it again.", { headers: { ETag: etag } });
  }
  if (body.Boot === undefined) throw new RedfishRequestError(400, "PropertyMissing", "Nothing to change: the body has no Boot.", { args: ["Boot"], property: "Boot" });
  const boot = checkKeys(body.Boot, BOOT_KEYS, "Boot");
  if (Object.keys(boot).filter((k) => !k.includes("@")).length === 0) throw new RedfishRequestError(400, "PropertyMissing", "Nothing to change: Boot is empty.", { args: ["Boot"], property: "Boot" });
  const patch: BootPatch = {};
  if (boot.BootSourceOverrideTarget !== undefined) {
    patch.target = enumValue(boot.BootSourceOverrideTarget, BOOT_TARGETS, "Boot.BootSourceOverrideTarget");
    if (!before.boot.allowedTargets.includes(patch.target)) throw fail.notInList("Boot.BootSourceOverrideTarget", patch.target, before.boot.allowedTargets);
  }
  if (boot.BootSourceOverrideEnabled !== undefined) patch.enabled = enumValue(boot.BootSourceOverrideEnabled, BOOT_ENABLED, "Boot.BootSourceOverrideEnabled");
  if (boot.BootSourceOverrideMode !== undefined) patch.mode = enumValue(boot.BootSourceOverrideMode, BOOT_MODES, "Boot.BootSourceOverrideMode");
  ctx.env.logger.info("Redfish boot override", { system: s.name, ...patch, user: ctx.user, peer: ctx.source });
  await s.patchBoot(patch);
  return { status: 200, body: systemBody(s, await s.details()), etag: true };
}

async function reset(ctx: RequestContext) {
  const s = findSystem(ctx);
  const action = "ComputerSystem.Reset";
  const body = checkParams(action, ctx.body, ["ResetType"]);
  const type = param(action, body, "ResetType", RESET_TYPES);
  if (!s.resetTypes().includes(type)) throw fail.paramNotInList(action, "ResetType", type, s.resetTypes());
  ctx.env.logger.info("Redfish reset", { system: s.name, type, user: ctx.user, peer: ctx.source });
  await s.reset(type);
  return { status: 204 };
}

async function nics(ctx: RequestContext) {
  const s = findSystem(ctx);
  const uri = `${systemUri(s)}/EthernetInterfaces`;
  const d = await s.details();
  return { body: collection("#EthernetInterfaceCollection.EthernetInterfaceCollection", uri, "Ethernet Interfaces", d.nics.map((n) => `${uri}/${n.id}`)) };
}

async function nic(ctx: RequestContext) {
  const s = findSystem(ctx);
  const d = await s.details();
  const n = d.nics.find((x) => x.id === ctx.params.nic);
  if (!n) throw fail.notFound(ctx.path);
  const uri = `${systemUri(s)}/EthernetInterfaces/${n.id}`;
  return { body: resource("#EthernetInterface.v1_6_2.EthernetInterface", uri, n.id, n.name, { MACAddress: n.mac, PermanentMACAddress: n.mac, InterfaceEnabled: true, LinkStatus: "LinkUp", Status: STATUS_OK }) };
}

async function processors(ctx: RequestContext) {
  const s = findSystem(ctx);
  const uri = `${systemUri(s)}/Processors`;
  return { body: collection("#ProcessorCollection.ProcessorCollection", uri, "Processors", [`${uri}/CPU`]) };
}

/** The VM's vCPUs as one processor (vSphere does not expose sockets to a BMC's reader). */
async function processor(ctx: RequestContext) {
  const s = findSystem(ctx);
  if (ctx.params.pid !== "CPU") throw fail.notFound(ctx.path);
  const d = await s.details();
  const uri = `${systemUri(s)}/Processors/CPU`;
  return {
    body: resource("#Processor.v1_11_0.Processor", uri, "CPU", "Virtual CPUs", {
      ProcessorType: "CPU",
      ProcessorArchitecture: "x86",
      InstructionSet: "x86-64",
      TotalCores: d.processors,
      TotalThreads: d.processors,
      Status: STATUS_OK,
    }),
  };
}

async function storageCollection(ctx: RequestContext) {
  const s = findSystem(ctx);
  const uri = `${systemUri(s)}/SimpleStorage`;
  return { body: collection("#SimpleStorageCollection.SimpleStorageCollection", uri, "Simple Storage", [`${uri}/1`]) };
}

async function storage(ctx: RequestContext) {
  const s = findSystem(ctx);
  if (ctx.params.sid !== "1") throw fail.notFound(ctx.path);
  const d = await s.details();
  const uri = `${systemUri(s)}/SimpleStorage/1`;
  return {
    body: resource("#SimpleStorage.v1_3_0.SimpleStorage", uri, "1", "Virtual disks", {
      Devices: d.disks.map((x) => ({ Name: x.name, CapacityBytes: x.bytes, Manufacturer: "VMware", Model: "Virtual disk", Status: STATUS_OK })),
      Status: STATUS_OK,
    }),
  };
}

async function secureBoot(ctx: RequestContext) {
  const s = findSystem(ctx);
  const d = await s.details();
  if (d.secureBoot === undefined) throw fail.notFound(ctx.path);
  const uri = `${systemUri(s)}/SecureBoot`;
  return {
    body: resource("#SecureBoot.v1_1_0.SecureBoot", uri, "SecureBoot", "UEFI Secure Boot", {
      SecureBootEnable: d.secureBoot,
      SecureBootCurrentBoot: d.secureBoot ? "Enabled" : "Disabled",
      SecureBootMode: "UserMode",
    }),
  };
}

export const systemRoutes: Route[] = [
  { pattern: `${ROOT}/Systems`, name: "Systems", methods: { GET: (ctx) => ({ body: collection("#ComputerSystemCollection.ComputerSystemCollection", `${ROOT}/Systems`, "Computer Systems", ctx.env.provider.systems().map(systemUri)) }) } },
  { pattern: `${ROOT}/Systems/:id`, name: "ComputerSystem", methods: { GET: getSystem, PATCH: patchSystem } },
  { pattern: `${ROOT}/Systems/:id/Actions/ComputerSystem.Reset`, name: "Reset", methods: { POST: reset } },
  { pattern: `${ROOT}/Systems/:id/Processors`, name: "Processors", methods: { GET: processors } },
  { pattern: `${ROOT}/Systems/:id/Processors/:pid`, name: "Processor", methods: { GET: processor } },
  { pattern: `${ROOT}/Systems/:id/EthernetInterfaces`, name: "EthernetInterfaces", methods: { GET: nics } },
  { pattern: `${ROOT}/Systems/:id/EthernetInterfaces/:nic`, name: "EthernetInterface", methods: { GET: nic } },
  { pattern: `${ROOT}/Systems/:id/SimpleStorage`, name: "SimpleStorageCollection", methods: { GET: storageCollection } },
  { pattern: `${ROOT}/Systems/:id/SimpleStorage/:sid`, name: "SimpleStorage", methods: { GET: storage } },
  { pattern: `${ROOT}/Systems/:id/SecureBoot`, name: "SecureBoot", methods: { GET: secureBoot } },
];
