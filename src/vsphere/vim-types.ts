// Typed views of the vim25 data objects the rest of esxkit reads. Only the fields we use
// are declared; everything arrives from the decoder as SoapValue and is narrowed here.
// Primitive values are converted (numbers, booleans) by the accessor that reads them.
import type { MoRef } from "./soap/types.ts";

export type { MoRef };

/** ServiceContent.about (AboutInfo). */
export interface AboutInfo {
  name: string;
  fullName: string;
  vendor: string;
  version: string;
  build: string;
  /** "VirtualCenter" for vCenter, "HostAgent" for a standalone ESXi host. */
  apiType: string;
  apiVersion: string;
  instanceUuid?: string;
  productLineId?: string;
  osType?: string;
}

/** The ServiceContent fields esxkit uses. Optional ones are absent on ESXi or in the simulator. */
export interface ServiceContent {
  about: AboutInfo;
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager?: MoRef;
  sessionManager?: MoRef;
  searchIndex: MoRef;
  eventManager?: MoRef;
  taskManager?: MoRef;
  fileManager?: MoRef;
  customFieldsManager?: MoRef;
}

/** SessionManager.Login result (UserSession). */
export interface UserSession {
  key: string;
  userName: string;
  fullName?: string;
  loginTime?: string;
}

export type PowerState = "poweredOn" | "poweredOff" | "suspended";

export type TaskState = "queued" | "running" | "success" | "error";

/** A fault as carried by TaskInfo.error (LocalizedMethodFault) or a SOAP fault detail. */
export interface VimFault {
  /** vim25 fault type, e.g. "FileLocked", "InvalidPowerState". */
  faultType: string;
  message: string;
  /** The decoded fault object (its fields, e.g. `file` for FileLocked). */
  detail: Record<string, unknown>;
}

export interface TaskInfo {
  key: string;
  task: MoRef;
  state: TaskState;
  descriptionId?: string;
  entity?: MoRef;
  entityName?: string;
  result?: unknown;
  error?: VimFault;
  progress?: number;
}

/** VirtualMachine.runtime.question (VirtualMachineQuestionInfo). */
export interface VmQuestion {
  id: string;
  text: string;
  choices: { key: string; label: string; summary: string }[];
  defaultKey?: string;
  /** message[].id, e.g. "msg.uuid.altered". */
  messageIds: string[];
}

/** One bootable device in VirtualMachineBootOptions.bootOrder. */
export type BootableDevice =
  | { kind: "cdrom" }
  | { kind: "floppy" }
  | { kind: "disk"; deviceKey: number }
  | { kind: "ethernet"; deviceKey: number };

/** VirtualMachineBootOptions, the fields IPMI boot-device control touches. */
export interface BootOptions {
  bootDelay?: number;
  /** One-shot: the VM enters firmware setup on its next boot, then vSphere clears it. */
  enterBIOSSetup?: boolean;
  efiSecureBootEnabled?: boolean;
  bootRetryEnabled?: boolean;
  bootRetryDelay?: number;
  bootOrder?: BootableDevice[];
  /** "ipv4" | "ipv6" (EFI network boot). */
  networkBootProtocol?: string;
}

export type Firmware = "bios" | "efi";

/** A device from config.hardware.device, reduced to what boot selection needs. */
export interface VmDevice {
  key: number;
  /** vim25 type, e.g. "VirtualDisk", "VirtualCdrom", "VirtualVmxnet3". */
  type: string;
  label?: string;
  /** MAC address for ethernet cards. */
  macAddress?: string;
  unitNumber?: number;
  controllerKey?: number;
  kind: "disk" | "cdrom" | "floppy" | "ethernet" | "other";
  /** VirtualDisk capacityInBytes (or capacityInKB × 1024). */
  capacityBytes?: number;
}

/** Datastore summary as a host sees it. */
export interface DatastoreSummary {
  ref: MoRef;
  name: string;
  /** "ds:///vmfs/volumes/<uuid>/" */
  url: string;
  type: string;
  accessible: boolean;
  capacity: number;
  freeSpace: number;
  maintenanceMode?: string;
}

/** A vim25 Event (or EventEx) from the event manager. */
export interface VimEvent {
  key: number;
  /** xsi:type of the event, e.g. "VmPoweredOnEvent", "EventEx". */
  type: string;
  createdTime: string;
  userName?: string;
  fullFormattedMessage?: string;
  /** EventEx.eventTypeId, e.g. "esx.problem.vmfs.resource.corruptondisk". */
  eventTypeId?: string;
  severity?: string;
  message?: string;
  vm?: { name: string; vm: MoRef };
  host?: { name: string; host: MoRef };
  raw: Record<string, unknown>;
}
