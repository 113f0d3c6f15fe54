// CD-ROM devices of a VM: what config.hardware.device says about them and their controllers,
// and the ReconfigVM_Task device changes that insert an ISO, empty the drive, or add a drive
// (and, when no IDE/SATA slot is free, a SATA controller).
//
// Objects are written in vim25 XSD field order (VirtualDevice: key, deviceInfo, backing,
// connectable, controllerKey, unitNumber). An edit carries the device's deviceInfo: the
// simulator dereferences it, and vSphere accepts it.
import type { VimClient } from "./client.ts";
import { arr, bool, moref, num, obj, str } from "./convert.ts";
import { readCoalesced } from "./coalesced-read.ts";
import { retrieveOne } from "./properties.ts";
import type { MoRef, SoapObject, SoapValue } from "./soap/types.ts";
import { waitForTask } from "./tasks.ts";

export type CdromBacking =
  | { kind: "iso"; fileName: string }
  | { kind: "client"; deviceName: string }
  | { kind: "host"; deviceName: string }
  | { kind: "other"; type: string };

export interface Cdrom {
  key: number;
  label: string;
  controllerKey: number;
  unitNumber?: number;
  backing: CdromBacking;
  connected: boolean;
  startConnected: boolean;
  allowGuestControl: boolean;
}

export interface Controller {
  key: number;
  type: string;
  busNumber: number;
  /** Units a device may use on it. */
  units: number[];
}

export interface VmCdromView {
  cdroms: Cdrom[];
  /** IDE and SATA controllers, which can hold a CD-ROM. */
  controllers: Controller[];
  /** The PCI controller a new SATA controller goes on. */
  pciKey?: number;
  /** controllerKey → units in use (by any device). */
  used: Map<number, Set<number>>;
}

function toBacking(v: unknown): CdromBacking {
  const b = obj(v);
  const type = str(b.$type) ?? "";
  if (type === "VirtualCdromIsoBackingInfo") return { kind: "iso", fileName: str(b.fileName) ?? "" };
  if (type === "VirtualCdromRemotePassthroughBackingInfo" || type === "VirtualCdromRemoteAtapiBackingInfo") return { kind: "client", deviceName: str(b.deviceName) ?? "" };
  if (type === "VirtualCdromAtapiBackingInfo" || type === "VirtualCdromPassthroughBackingInfo") return { kind: "host", deviceName: str(b.deviceName) ?? "" };
  return { kind: "other", type };
}

/** Units per controller type (IDE: master/slave; AHCI: 30 ports). */
const CONTROLLER_UNITS: Record<string, number> = { VirtualIDEController: 2, VirtualAHCIController: 30 };

/** Read a device list (config.hardware.device, as decoded) into CD-ROMs and their possible controllers. */
export function cdromView(devices: unknown): VmCdromView {
  const view: VmCdromView = { cdroms: [], controllers: [], used: new Map() };
  for (const d of arr(devices)) {
    const o = obj(d);
    const type = str(o.$type) ?? "";
    const key = num(o.key) ?? 0;
    const controllerKey = num(o.controllerKey);
    const unitNumber = num(o.unitNumber);
    if (controllerKey !== undefined && unitNumber !== undefined) {
      let set = view.used.get(controllerKey);
      if (!set) view.used.set(controllerKey, (set = new Set()));
      set.add(unitNumber);
    }
    if (type === "VirtualPCIController") view.pciKey = key;
    const units = CONTROLLER_UNITS[type];
    if (units) view.controllers.push({ key, type, busNumber: num(o.busNumber) ?? 0, units: [...Array(units).keys()] });
    if (type !== "VirtualCdrom") continue;
    const c = obj(o.connectable);
    view.cdroms.push({
      key,
      label: str(obj(o.deviceInfo).label) ?? `CD/DVD drive ${key}`,
      controllerKey: controllerKey ?? 0,
      unitNumber,
      backing: toBacking(o.backing),
      connected: bool(c.connected) ?? false,
      startConnected: bool(c.startConnected) ?? false,
      allowGuestControl: bool(c.allowGuestControl) ?? true,
    });
  }
  return view;
}

/** A free IDE or SATA slot for a new CD-ROM, or undefined. */
export function freeCdromSlot(view: VmCdromView): { controllerKey: number; unitNumber: number } | undefined {
  const order = [...view.controllers].sort((a, b) => (a.type === b.type ? a.busNumber - b.busNumber : a.type === "VirtualIDEController" ? -1 : 1));
  for (const c of order) {
    const used = view.used.get(c.key) ?? new Set();
    const unit = c.units.find((u) => !used.has(u));
    if (unit !== undefined) return { controllerKey: c.key, unitNumber: unit };
  }
  return undefined;
}

export interface VmCdromConfig extends VmCdromView {
  /** config.files.vmPathName: "[ds] dir/vm.vmx". */
  vmPathName?: string;
  /** config.extraConfig as key → value. */
  extraConfig: Record<string, string>;
  powerState?: string;
}

const CDROM_CONFIG_PATHS = ["config.hardware.device", "config.files.vmPathName", "config.extraConfig", "runtime.powerState"];

/** One read of the VM's devices, vmx path, extraConfig and power state. */
export async function readCdromConfig(client: VimClient, vm: MoRef): Promise<VmCdromConfig> {
  return toCdromConfig(await retrieveOne(client, vm, CDROM_CONFIG_PATHS));
}

/**
 * The same read, sharing its request with other VMs' reads asked for at the same time
 * (coalesced-read.ts): for reads that many BMCs make at once, such as at start.
 */
export async function readCdromConfigCoalesced(client: VimClient, vm: MoRef): Promise<VmCdromConfig> {
  return toCdromConfig(await readCoalesced(client, vm, CDROM_CONFIG_PATHS));
}

function toCdromConfig(p: Record<string, SoapValue>): VmCdromConfig {
  const extraConfig: Record<string, string> = {};
  for (const e of arr(p["config.extraConfig"])) {
    const o = obj(e);
    const k = str(o.key);
    const v = o.value;
    if (k) extraConfig[k] = str(typeof v === "object" && v !== null ? (v as SoapObject).$value : v) ?? "";
  }
  return { ...cdromView(p["config.hardware.device"]), vmPathName: str(p["config.files.vmPathName"]), extraConfig, powerState: str(p["runtime.powerState"]) };
}

export interface Connection {
  connected: boolean;
  startConnected: boolean;
  allowGuestControl?: boolean;
}

function backingObject(b: CdromBacking): SoapObject {
  switch (b.kind) {
    case "iso":
      return { $type: "VirtualCdromIsoBackingInfo", fileName: b.fileName };
    case "client":
      return { $type: "VirtualCdromRemotePassthroughBackingInfo", deviceName: b.deviceName, useAutoDetect: false, exclusive: false };
    case "host":
      return { $type: "VirtualCdromAtapiBackingInfo", deviceName: b.deviceName, useAutoDetect: false };
    case "other":
      throw new Error(`cannot write a CD-ROM backing of type ${b.type}`);
  }
}

function cdromObject(key: number, label: string, backing: CdromBacking, c: Connection, controllerKey: number, unitNumber?: number): SoapObject {
  const o: SoapObject = {
    $type: "VirtualCdrom",
    key,
    deviceInfo: { $type: "Description", label, summary: backing.kind === "iso" ? `ISO ${backing.fileName}` : "Remote device" },
    backing: backingObject(backing),
    connectable: { $type: "VirtualDeviceConnectInfo", startConnected: c.startConnected, allowGuestControl: c.allowGuestControl ?? true, connected: c.connected },
    controllerKey,
  };
  if (unitNumber !== undefined) o.unitNumber = unitNumber;
  return o;
}

/** A deviceChange entry pointing an existing CD-ROM at `backing`. */
export function editCdrom(cd: Cdrom, backing: CdromBacking, c: Connection): SoapObject {
  return { $type: "VirtualDeviceConfigSpec", operation: "edit", device: cdromObject(cd.key, cd.label, backing, c, cd.controllerKey, cd.unitNumber) };
}

/** deviceChange entries adding a CD-ROM at the slot (and a SATA controller first, with `newController`). */
export function addCdrom(slot: { controllerKey: number; unitNumber: number }, backing: CdromBacking, c: Connection, newController?: { pciKey: number; busNumber: number }): SoapObject[] {
  const out: SoapObject[] = [];
  if (newController) {
    out.push({
      $type: "VirtualDeviceConfigSpec",
      operation: "add",
      device: { $type: "VirtualAHCIController", key: slot.controllerKey, deviceInfo: { $type: "Description", label: "SATA controller (esxkit)", summary: "AHCI" }, controllerKey: newController.pciKey, busNumber: newController.busNumber },
    });
  }
  out.push({ $type: "VirtualDeviceConfigSpec", operation: "add", device: cdromObject(-100, "CD/DVD drive (esxkit)", backing, c, slot.controllerKey, slot.unitNumber) });
  return out;
}

/** ReconfigVM_Task with device changes and extraConfig (an empty value removes the key). */
export async function reconfigDevices(client: VimClient, vm: MoRef, deviceChange: SoapObject[], extraConfig: Record<string, string>, timeoutMs: number): Promise<void> {
  const spec: SoapObject = { $type: "VirtualMachineConfigSpec" };
  if (deviceChange.length) spec.deviceChange = deviceChange;
  const extra = Object.entries(extraConfig);
  if (extra.length) spec.extraConfig = extra.map(([key, value]) => ({ $type: "OptionValue", key, value: { $type: "xsd:string", $value: value } }));
  const task = moref(await client.call("ReconfigVM_Task", vm, { spec }));
  if (!task) throw new Error("ReconfigVM_Task returned no task");
  await waitForTask(client, task, { timeoutMs });
}
