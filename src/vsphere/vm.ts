// VirtualMachine operations: power, boot options, registration, questions.
// Task-based operations are awaited to the task's end; failures are TaskFailedError with the
// vim25 fault type (InvalidPowerState, FileLocked, AlreadyExists, …).
import { SoapFaultError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { fromBootOptions, moref, num, str, toBootOptions, toDevices, toQuestion } from "./convert.ts";
import { retrieveOne, retrieveProperties } from "./properties.ts";
import type { MoRef, SoapObject, SoapValue } from "./soap/types.ts";
import { answerVm, waitForTask, type WaitForTaskOptions } from "./tasks.ts";
import type { BootOptions, Firmware, PowerState, VmDevice, VmQuestion } from "./vim-types.ts";

export { answerVm };

/** Properties a virtual BMC watches per VM. */
export const VM_BMC_PATHS = [
  "name",
  "config.uuid",
  "config.instanceUuid",
  "runtime.powerState",
  "runtime.host",
  "config.bootOptions",
  "config.firmware",
];

export type TaskOptions = Omit<WaitForTaskOptions, "vm">;

async function runTask(client: VimClient, method: string, thisRef: MoRef, args: Record<string, SoapValue>, opts: TaskOptions & { vm?: MoRef } = {}): Promise<SoapValue> {
  const task = moref(await client.call(method, thisRef, args));
  if (!task) throw new Error(`${method} returned no task`);
  return waitForTask(client, task, opts);
}

/** PowerOnVM_Task, answering runtime.question through `opts.onQuestion` while it blocks. */
export async function powerOnVm(client: VimClient, vm: MoRef, opts: TaskOptions & { host?: MoRef } = {}): Promise<void> {
  const { host, ...wait } = opts;
  await runTask(client, "PowerOnVM_Task", vm, host ? { host } : {}, { ...wait, vm });
}

/** PowerOffVM_Task (hard power off). */
export async function powerOffVm(client: VimClient, vm: MoRef, opts: TaskOptions = {}): Promise<void> {
  await runTask(client, "PowerOffVM_Task", vm, {}, opts);
}

/** ResetVM_Task (hard reset). */
export async function resetVm(client: VimClient, vm: MoRef, opts: TaskOptions = {}): Promise<void> {
  await runTask(client, "ResetVM_Task", vm, {}, opts);
}

/** ShutdownGuest: asks VMware Tools for a clean shutdown; returns once the request is accepted. */
export async function shutdownGuest(client: VimClient, vm: MoRef): Promise<void> {
  await client.call("ShutdownGuest", vm);
}

/** RebootGuest: asks VMware Tools for a clean reboot; returns once the request is accepted. */
export async function rebootGuest(client: VimClient, vm: MoRef): Promise<void> {
  await client.call("RebootGuest", vm);
}

/** The changes esxkit makes through ReconfigVM_Task. */
export interface VmConfigChange {
  name?: string;
  bootOptions?: BootOptions;
  firmware?: Firmware;
  /** extraConfig (vmx) key/value pairs; an empty value removes the key. */
  extraConfig?: Record<string, string>;
}

/**
 * ReconfigVM_Task with a VirtualMachineConfigSpec built in the XSD field order
 * (name, extraConfig, bootOptions, firmware).
 */
export async function reconfigVm(client: VimClient, vm: MoRef, change: VmConfigChange, opts: TaskOptions = {}): Promise<void> {
  const spec: SoapObject = { $type: "VirtualMachineConfigSpec" };
  if (change.name !== undefined) spec.name = change.name;
  if (change.extraConfig) {
    spec.extraConfig = Object.entries(change.extraConfig).map(([key, value]) => ({
      $type: "OptionValue",
      key,
      value: { $type: "xsd:string", $value: value },
    }));
  }
  if (change.bootOptions) spec.bootOptions = fromBootOptions(change.bootOptions);
  if (change.firmware) spec.firmware = change.firmware;
  await runTask(client, "ReconfigVM_Task", vm, { spec }, opts);
}

/** Current boot options and firmware. */
export async function getBootConfig(client: VimClient, vm: MoRef): Promise<{ bootOptions: BootOptions; firmware?: Firmware }> {
  const p = await retrieveOne(client, vm, ["config.bootOptions", "config.firmware"]);
  return { bootOptions: toBootOptions(p["config.bootOptions"]), firmware: str(p["config.firmware"]) as Firmware | undefined };
}

/** config.hardware.device, reduced to what boot selection needs. */
export async function listDevices(client: VimClient, vm: MoRef): Promise<VmDevice[]> {
  const p = await retrieveOne(client, vm, ["config.hardware.device"]);
  return toDevices(p["config.hardware.device"]);
}

/** What a BMC reports of a VM's hardware (Redfish ComputerSystem, inspection). */
export interface VmHardware {
  numCpu?: number;
  memoryMB?: number;
  devices: VmDevice[];
  guestFullName?: string;
  secureBoot?: boolean;
}

export async function getHardware(client: VimClient, vm: MoRef): Promise<VmHardware> {
  const p = await retrieveOne(client, vm, ["config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device", "config.guestFullName", "config.bootOptions"]);
  return {
    numCpu: num(p["config.hardware.numCPU"]),
    memoryMB: num(p["config.hardware.memoryMB"]),
    devices: toDevices(p["config.hardware.device"]),
    guestFullName: str(p["config.guestFullName"]),
    secureBoot: toBootOptions(p["config.bootOptions"]).efiSecureBootEnabled,
  };
}

/** runtime.powerState of one VM. */
export async function getPowerState(client: VimClient, vm: MoRef): Promise<PowerState> {
  const p = await retrieveOne(client, vm, ["runtime.powerState"]);
  return (str(p["runtime.powerState"]) ?? "poweredOff") as PowerState;
}

/** The VM's pending question (runtime.question), if any. */
export async function pollQuestion(client: VimClient, vm: MoRef): Promise<VmQuestion | undefined> {
  const p = await retrieveOne(client, vm, ["runtime.question"]);
  return toQuestion(p["runtime.question"]);
}

/** The choice whose label or summary matches, e.g. /movedTheVM|moved it/i. */
export function findChoice(q: VmQuestion, match: RegExp): string | undefined {
  return q.choices.find((c) => match.test(c.label) || match.test(c.summary))?.key;
}

export interface RegisterVmSpec {
  /** Datastore path of the vmx: "[ds1] vcsa/vcsa.vmx". */
  path: string;
  name?: string;
  asTemplate?: boolean;
  /** VM folder; default the first datacenter's vmFolder (ha-folder-vm on ESXi). */
  folder?: MoRef;
  /** Resource pool; default the root pool of `host`'s compute resource, or of the first one. */
  pool?: MoRef;
  host?: MoRef;
}

async function defaultVmFolder(client: VimClient): Promise<MoRef> {
  const dcs = await retrieveProperties(client, { type: "Datacenter", paths: ["vmFolder"] });
  const f = moref(dcs[0]?.props.vmFolder);
  if (!f) throw new Error(`${client.endpoint.name}: no datacenter with a vmFolder`);
  return f;
}

async function defaultPool(client: VimClient, host?: MoRef): Promise<MoRef> {
  let cr: MoRef | undefined;
  if (host) cr = moref((await retrieveOne(client, host, ["parent"])).parent);
  if (!cr) {
    const crs = await retrieveProperties(client, { type: "ComputeResource", paths: [] });
    cr = crs[0]?.ref;
  }
  const pool = cr ? moref((await retrieveOne(client, cr, ["resourcePool"])).resourcePool) : undefined;
  if (!pool) throw new Error(`${client.endpoint.name}: no resource pool found for RegisterVM`);
  return pool;
}

/** Folder.RegisterVM_Task; resolves with the new VirtualMachine reference. */
export async function registerVm(client: VimClient, spec: RegisterVmSpec, opts: TaskOptions = {}): Promise<MoRef> {
  const folder = spec.folder ?? (await defaultVmFolder(client));
  const pool = spec.asTemplate ? undefined : (spec.pool ?? (await defaultPool(client, spec.host)));
  const args: Record<string, SoapValue> = { path: spec.path };
  if (spec.name) args.name = spec.name;
  args.asTemplate = spec.asTemplate ?? false;
  if (pool) args.pool = pool;
  if (spec.host) args.host = spec.host;
  const result = moref(await runTask(client, "RegisterVM_Task", folder, args, opts));
  if (!result) throw new Error("RegisterVM_Task finished without a VM reference");
  return result;
}

/** VirtualMachine.UnregisterVM: removes the VM from the inventory, keeps its files. Never Destroy_Task. */
export async function unregisterVm(client: VimClient, vm: MoRef): Promise<void> {
  await client.call("UnregisterVM", vm);
}

/** Whether a fault means "already in the requested power state". */
export function isInvalidPowerState(err: unknown): boolean {
  return (
    (err instanceof SoapFaultError && err.faultType === "InvalidPowerState") ||
    (typeof err === "object" && err !== null && (err as { faultType?: string }).faultType === "InvalidPowerState")
  );
}
