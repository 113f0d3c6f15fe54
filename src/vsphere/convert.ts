// Narrowing decoded SoapValues into the typed shapes of vim-types.ts. The decoder converts
// primitives only where the server sent an xsi:type; elsewhere they are strings, so every
// accessor here takes both.
import { asArray, isMoRef } from "./soap/decode.ts";
import type { MoRef, SoapObject } from "./soap/types.ts";
import type {
  AboutInfo,
  BootableDevice,
  BootOptions,
  ServiceContent,
  TaskInfo,
  TaskState,
  UserSession,
  VimFault,
  VmDevice,
  VmQuestion,
} from "./vim-types.ts";

export function isObject(v: unknown): v is SoapObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): SoapObject {
  return isObject(v) ? v : {};
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function bool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return undefined;
}

/** A value that may be one item, an array, or absent, as an array (repeated elements decode to arrays only from two up). */
export const arr: (v: unknown) => unknown[] = asArray;

export function moref(v: unknown): MoRef | undefined {
  return isMoRef(v) ? { type: v.type, value: v.value } : undefined;
}

export function refKey(ref: MoRef): string {
  return `${ref.type}:${ref.value}`;
}

export function sameRef(a: MoRef | undefined, b: MoRef | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.value === b.value;
}

export function toAbout(v: unknown): AboutInfo {
  const a = obj(v);
  return {
    name: str(a.name) ?? "",
    fullName: str(a.fullName) ?? "",
    vendor: str(a.vendor) ?? "",
    version: str(a.version) ?? "",
    build: str(a.build) ?? "",
    apiType: str(a.apiType) ?? "",
    apiVersion: str(a.apiVersion) ?? "",
    instanceUuid: str(a.instanceUuid),
    productLineId: str(a.productLineId),
    osType: str(a.osType),
  };
}

export function toServiceContent(v: unknown): ServiceContent {
  const sc = obj(v);
  const need = (k: string): MoRef => {
    const r = moref(sc[k]);
    if (!r) throw new Error(`ServiceContent has no ${k}`);
    return r;
  };
  return {
    about: toAbout(sc.about),
    rootFolder: need("rootFolder"),
    propertyCollector: need("propertyCollector"),
    viewManager: moref(sc.viewManager),
    sessionManager: moref(sc.sessionManager),
    searchIndex: need("searchIndex"),
    eventManager: moref(sc.eventManager),
    taskManager: moref(sc.taskManager),
    fileManager: moref(sc.fileManager),
    customFieldsManager: moref(sc.customFieldsManager),
  };
}

export function toUserSession(v: unknown): UserSession {
  const s = obj(v);
  return { key: str(s.key) ?? "", userName: str(s.userName) ?? "", fullName: str(s.fullName), loginTime: str(s.loginTime) };
}

/** A LocalizedMethodFault ({fault, localizedMessage}) or a bare MethodFault object. */
export function toFault(v: unknown): VimFault {
  const lmf = obj(v);
  const fault = isObject(lmf.fault) ? lmf.fault : lmf;
  const faultType = str(fault.$type) ?? "MethodFault";
  const msgs = arr(fault.faultMessage).map((m) => str(obj(m).message)).filter(Boolean);
  const message = str(lmf.localizedMessage) || msgs.join("; ") || faultType;
  const { $type: _t, ...detail } = fault;
  return { faultType, message, detail };
}

export function toTaskInfo(v: unknown): TaskInfo {
  const t = obj(v);
  return {
    key: str(t.key) ?? "",
    task: moref(t.task) ?? { type: "Task", value: str(t.key) ?? "" },
    state: (str(t.state) ?? "queued") as TaskState,
    descriptionId: str(t.descriptionId),
    entity: moref(t.entity),
    entityName: str(t.entityName),
    result: t.result,
    error: t.error ? toFault(t.error) : undefined,
    progress: num(t.progress),
  };
}

export function toQuestion(v: unknown): VmQuestion | undefined {
  const q = obj(v);
  const id = str(q.id);
  if (!id) return undefined;
  const choice = obj(q.choice);
  const infos = arr(choice.choiceInfo).map((c) => {
    const o = obj(c);
    return { key: str(o.key) ?? "", label: str(o.label) ?? "", summary: str(o.summary) ?? "" };
  });
  const defaultIndex = num(choice.defaultIndex);
  return {
    id,
    text: str(q.text) ?? "",
    choices: infos,
    defaultKey: defaultIndex === undefined ? undefined : infos[defaultIndex]?.key,
    messageIds: arr(q.message).map((m) => str(obj(m).id) ?? "").filter(Boolean),
  };
}

const BOOTABLE_TYPES: Record<string, BootableDevice["kind"]> = {
  VirtualMachineBootOptionsBootableCdromDevice: "cdrom",
  VirtualMachineBootOptionsBootableFloppyDevice: "floppy",
  VirtualMachineBootOptionsBootableDiskDevice: "disk",
  VirtualMachineBootOptionsBootableEthernetDevice: "ethernet",
};

export function toBootOptions(v: unknown): BootOptions {
  const b = obj(v);
  const out: BootOptions = {};
  const set = <K extends keyof BootOptions>(k: K, val: BootOptions[K] | undefined) => {
    if (val !== undefined) out[k] = val;
  };
  set("bootDelay", num(b.bootDelay));
  set("enterBIOSSetup", bool(b.enterBIOSSetup));
  set("efiSecureBootEnabled", bool(b.efiSecureBootEnabled));
  set("bootRetryEnabled", bool(b.bootRetryEnabled));
  set("bootRetryDelay", num(b.bootRetryDelay));
  if (b.bootOrder !== undefined) {
    out.bootOrder = arr(b.bootOrder).flatMap((d): BootableDevice[] => {
      const o = obj(d);
      const kind = BOOTABLE_TYPES[str(o.$type) ?? ""];
      if (kind === "disk" || kind === "ethernet") return [{ kind, deviceKey: num(o.deviceKey) ?? 0 }];
      return kind ? [{ kind }] : [];
    });
  }
  set("networkBootProtocol", str(b.networkBootProtocol));
  return out;
}

/**
 * VirtualMachineBootOptions for a ConfigSpec. Field order follows the vim25 XSD sequence
 * (bootDelay, enterBIOSSetup, efiSecureBootEnabled, bootRetryEnabled, bootRetryDelay,
 * bootOrder, networkBootProtocol): real servers reject out-of-order elements.
 */
export function fromBootOptions(b: BootOptions): SoapObject {
  const o: SoapObject = { $type: "VirtualMachineBootOptions" };
  if (b.bootDelay !== undefined) o.bootDelay = b.bootDelay;
  if (b.enterBIOSSetup !== undefined) o.enterBIOSSetup = b.enterBIOSSetup;
  if (b.efiSecureBootEnabled !== undefined) o.efiSecureBootEnabled = b.efiSecureBootEnabled;
  if (b.bootRetryEnabled !== undefined) o.bootRetryEnabled = b.bootRetryEnabled;
  if (b.bootRetryDelay !== undefined) o.bootRetryDelay = b.bootRetryDelay;
  if (b.bootOrder !== undefined) {
    o.bootOrder = b.bootOrder.map((d): SoapObject => {
      switch (d.kind) {
        case "cdrom":
          return { $type: "VirtualMachineBootOptionsBootableCdromDevice" };
        case "floppy":
          return { $type: "VirtualMachineBootOptionsBootableFloppyDevice" };
        case "disk":
          return { $type: "VirtualMachineBootOptionsBootableDiskDevice", deviceKey: d.deviceKey };
        case "ethernet":
          return { $type: "VirtualMachineBootOptionsBootableEthernetDevice", deviceKey: d.deviceKey };
      }
    });
  }
  if (b.networkBootProtocol !== undefined) o.networkBootProtocol = b.networkBootProtocol;
  return o;
}

function deviceKind(type: string): VmDevice["kind"] {
  if (type === "VirtualDisk") return "disk";
  if (type === "VirtualCdrom") return "cdrom";
  if (type === "VirtualFloppy") return "floppy";
  if (/^Virtual(E1000e?|Pcnet32|Vmxnet\d*|Sriov\w*|Ethernet\w*)$/.test(type)) return "ethernet";
  return "other";
}

export function toDevices(v: unknown): VmDevice[] {
  return arr(v).map((d) => {
    const o = obj(d);
    const type = str(o.$type) ?? "VirtualDevice";
    return {
      key: num(o.key) ?? 0,
      type,
      label: str(obj(o.deviceInfo).label),
      macAddress: str(o.macAddress),
      unitNumber: num(o.unitNumber),
      controllerKey: num(o.controllerKey),
      kind: deviceKind(type),
      ...(type === "VirtualDisk" ? { capacityBytes: num(o.capacityInBytes) ?? (num(o.capacityInKB) ?? 0) * 1024 } : {}),
    };
  });
}
