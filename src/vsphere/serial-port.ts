// A VM's serial ports as config.hardware.device shows them, and the pure planning of esxkit's
// own console port: a network (URI) backing in direction "server" whose proxyURI is esxkit's
// vSPC, so the VM's host dials esxkit and the connection follows the VM across vMotion.
//
// Ownership: esxkit's port carries serviceURI "esxkit:<bmc name>" (the name percent-encoded).
// Not the device label: vSphere regenerates deviceInfo ("Serial port 1") and does not keep it in
// the vmx. The serviceURI is kept in the vmx (serialN.fileName), so it survives re-registration
// and vMotion, and ESXi hands it to the vSPC in DO-PROXY, which tells the vSPC which BMC a
// connection belongs to. With a proxyURI set, the serviceURI is opaque to ESXi (it is forwarded,
// not dialled). A port with any other serviceURI, even one pointing at esxkit's proxy, is foreign
// and never changed.
import { arr, bool, num, obj, str } from "./convert.ts";
import type { SoapObject } from "./soap/types.ts";

export const ESXKIT_SERVICE_URI_PREFIX = "esxkit:";

/** The serviceURI that marks esxkit's port for one [[bmc]]. */
export function esxkitServiceUri(bmcName: string): string {
  return `${ESXKIT_SERVICE_URI_PREFIX}${encodeURIComponent(bmcName)}`;
}

/** The [[bmc]] name an esxkit serviceURI carries, or undefined for any other URI. */
export function bmcNameOfServiceUri(uri: string): string | undefined {
  if (!uri.startsWith(ESXKIT_SERVICE_URI_PREFIX)) return undefined;
  try {
    return decodeURIComponent(uri.slice(ESXKIT_SERVICE_URI_PREFIX.length));
  } catch {
    return undefined;
  }
}

export type SerialBacking =
  | { kind: "uri"; direction: string; serviceUri: string; proxyUri?: string }
  | { kind: "file"; fileName: string }
  | { kind: "pipe"; pipeName: string; endpoint: string }
  | { kind: "device"; deviceName: string }
  | { kind: "thinprint" }
  | { kind: "none" }
  | { kind: "other"; type: string };

export interface SerialPort {
  key: number;
  label: string;
  controllerKey?: number;
  unitNumber?: number;
  backing: SerialBacking;
  connected: boolean;
  startConnected: boolean;
  allowGuestControl: boolean;
  yieldOnPoll: boolean;
  /** esxkit created it: a URI backing with an esxkit: serviceURI. */
  esxkit: boolean;
}

function toBacking(v: unknown): SerialBacking {
  if (v === undefined) return { kind: "none" };
  const b = obj(v);
  const type = str(b.$type) ?? "";
  switch (type) {
    case "VirtualSerialPortURIBackingInfo": {
      const proxy = str(b.proxyURI);
      return { kind: "uri", direction: str(b.direction) ?? "", serviceUri: str(b.serviceURI) ?? "", ...(proxy ? { proxyUri: proxy } : {}) };
    }
    case "VirtualSerialPortFileBackingInfo":
      return { kind: "file", fileName: str(b.fileName) ?? "" };
    case "VirtualSerialPortPipeBackingInfo":
      return { kind: "pipe", pipeName: str(b.pipeName) ?? "", endpoint: str(b.endpoint) ?? "" };
    case "VirtualSerialPortDeviceBackingInfo":
      return { kind: "device", deviceName: str(b.deviceName) ?? "" };
    case "VirtualSerialPortThinPrintBackingInfo":
      return { kind: "thinprint" };
    default:
      return { kind: "other", type };
  }
}

/** The serial ports of a device list (config.hardware.device, as decoded). */
export function serialPortsOf(devices: unknown): SerialPort[] {
  const out: SerialPort[] = [];
  for (const d of arr(devices)) {
    const o = obj(d);
    if (str(o.$type) !== "VirtualSerialPort") continue;
    const c = obj(o.connectable);
    const key = num(o.key) ?? 0;
    const backing = toBacking(o.backing);
    const port: SerialPort = {
      key,
      label: str(obj(o.deviceInfo).label) ?? `Serial port ${key}`,
      backing,
      connected: bool(c.connected) ?? false,
      startConnected: bool(c.startConnected) ?? false,
      allowGuestControl: bool(c.allowGuestControl) ?? false,
      yieldOnPoll: bool(o.yieldOnPoll) ?? false,
      esxkit: backing.kind === "uri" && bmcNameOfServiceUri(backing.serviceUri) !== undefined,
    };
    const controllerKey = num(o.controllerKey);
    const unitNumber = num(o.unitNumber);
    if (controllerKey !== undefined) port.controllerKey = controllerKey;
    if (unitNumber !== undefined) port.unitNumber = unitNumber;
    out.push(port);
  }
  return out;
}

/** "Serial port 1 (network server esxkit:web01 via telnet://esxkit:13370)", for messages. */
export function describeSerialPort(p: SerialPort): string {
  const b = p.backing;
  const what =
    b.kind === "uri"
      ? `network ${b.direction} ${b.serviceUri}${b.proxyUri ? ` via ${b.proxyUri}` : ""}`
      : b.kind === "file"
        ? `file ${b.fileName}`
        : b.kind === "pipe"
          ? `pipe ${b.pipeName} (${b.endpoint})`
          : b.kind === "device"
            ? `host device ${b.deviceName}`
            : b.kind === "other"
              ? b.type
              : b.kind;
  return `${p.label} (${what})`;
}

export interface SerialTarget {
  /** esxkitServiceUri(bmc name). */
  serviceUri: string;
  /** [console] proxy_uri. */
  proxyUri: string;
  /**
   * Compare `connected` too. Leave it unset for a powered-off VM: vSphere reports a powered-off
   * VM's devices as not connected whatever was asked, so only startConnected says anything then.
   */
  poweredOn?: boolean;
}

export type SerialPlan =
  | { action: "add" }
  | { action: "edit"; port: SerialPort; differences: string[] }
  | { action: "already-done"; port: SerialPort }
  | { action: "conflict"; foreign: SerialPort[]; reason: string };

/** What differs between esxkit's port and the wanted one ([] = nothing). */
export function serialDifferences(p: SerialPort, t: SerialTarget): string[] {
  const out: string[] = [];
  const b = p.backing;
  if (b.kind !== "uri") return [`backing is ${b.kind}, not a network (URI) backing`];
  if (b.serviceUri !== t.serviceUri) out.push(`serviceURI is ${b.serviceUri}, not ${t.serviceUri}`);
  if (b.direction !== "server") out.push(`direction is ${b.direction || "(unset)"}, not server`);
  if (b.proxyUri !== t.proxyUri) out.push(`proxyURI is ${b.proxyUri ?? "(unset)"}, not ${t.proxyUri}`);
  if (!p.startConnected) out.push("not connected at power on");
  if (t.poweredOn && !p.connected) out.push("not connected");
  if (!p.yieldOnPoll) out.push("yieldOnPoll is off");
  return out;
}

/**
 * Attach esxkit's console port: edit esxkit's own port when it differs, leave it when it is
 * right, add one when there is none. A VM with only foreign serial ports is a conflict: the
 * guest's console is on the first port (COM1, ttyS0), esxkit's port would come after it and
 * show nothing, and esxkit never changes a port it did not create.
 */
export function planSerialAttach(ports: readonly SerialPort[], target: SerialTarget): SerialPlan {
  const mine = ports.filter((p) => p.esxkit);
  if (mine.length) {
    // Several esxkit ports (a renamed [[bmc]]): prefer the one that already has this serviceURI.
    const port = mine.find((p) => p.backing.kind === "uri" && p.backing.serviceUri === target.serviceUri) ?? (mine[0] as SerialPort);
    const differences = serialDifferences(port, target);
    return differences.length ? { action: "edit", port, differences } : { action: "already-done", port };
  }
  if (ports.length) {
    return {
      action: "conflict",
      foreign: [...ports],
      reason: `the VM has a serial port esxkit did not create: ${ports.map(describeSerialPort).join(", ")}; esxkit never changes it, and a second port would not carry the guest's console (COM1). Remove it, or point the guest's console at another port, and attach again`,
    };
  }
  return { action: "add" };
}

/** The esxkit ports a detach removes (never a foreign one). */
export function planSerialDetach(ports: readonly SerialPort[]): { remove: SerialPort[]; foreign: SerialPort[] } {
  return { remove: ports.filter((p) => p.esxkit), foreign: ports.filter((p) => !p.esxkit) };
}

/** The lowest unit on the controller that no device uses (serial, parallel and floppy share the SIO controller). */
export function freeUnit(devices: unknown, controllerKey: number): number {
  const used = new Set<number>();
  for (const d of arr(devices)) {
    const o = obj(d);
    const u = num(o.unitNumber);
    if (num(o.controllerKey) === controllerKey && u !== undefined) used.add(u);
  }
  let unit = 0;
  while (used.has(unit)) unit++;
  return unit;
}

/** The VirtualSIOController's key, where serial ports go. */
export function sioControllerKey(devices: unknown): number | undefined {
  for (const d of arr(devices)) {
    const o = obj(d);
    if (str(o.$type) === "VirtualSIOController") return num(o.key);
  }
  return undefined;
}

// Fields in vim25 XSD order: VirtualDevice (key, deviceInfo, backing, connectable, controllerKey,
// unitNumber), then VirtualSerialPort's yieldOnPoll; URIBackingInfo: serviceURI, direction, proxyURI.
function serialPortObject(key: number, label: string, t: SerialTarget, controllerKey?: number, unitNumber?: number): SoapObject {
  const o: SoapObject = {
    $type: "VirtualSerialPort",
    key,
    deviceInfo: { $type: "Description", label, summary: `Remote ${t.serviceUri}` },
    backing: { $type: "VirtualSerialPortURIBackingInfo", serviceURI: t.serviceUri, direction: "server", proxyURI: t.proxyUri },
    // The guest may not disconnect the port: it is the BMC's console, not the guest's device.
    connectable: { $type: "VirtualDeviceConnectInfo", startConnected: true, allowGuestControl: false, connected: true },
  };
  if (controllerKey !== undefined) o.controllerKey = controllerKey;
  if (unitNumber !== undefined) o.unitNumber = unitNumber;
  // A guest that polls the port (a kernel console does) would otherwise spin a vCPU.
  o.yieldOnPoll = true;
  return o;
}

/** deviceChange adding esxkit's port on the SIO controller (a temporary negative key, as vSphere wants for new devices). */
export function addSerialPortSpec(devices: unknown, t: SerialTarget): SoapObject {
  const sio = sioControllerKey(devices);
  const unit = sio === undefined ? undefined : freeUnit(devices, sio);
  return { $type: "VirtualDeviceConfigSpec", operation: "add", device: serialPortObject(-600, "Serial port (esxkit)", t, sio, unit) };
}

function mustOwn(p: SerialPort, verb: string): void {
  if (!p.esxkit) throw new Error(`refusing to ${verb} ${describeSerialPort(p)}: esxkit did not create it`);
}

/** deviceChange pointing esxkit's port at `t`; throws for a port esxkit did not create. */
export function editSerialPortSpec(p: SerialPort, t: SerialTarget): SoapObject {
  mustOwn(p, "change");
  return { $type: "VirtualDeviceConfigSpec", operation: "edit", device: serialPortObject(p.key, p.label, t, p.controllerKey, p.unitNumber) };
}

/** deviceChange removing esxkit's port; throws for a port esxkit did not create. */
export function removeSerialPortSpec(p: SerialPort): SoapObject {
  mustOwn(p, "remove");
  const device: SoapObject = { $type: "VirtualSerialPort", key: p.key };
  if (p.controllerKey !== undefined) device.controllerKey = p.controllerKey;
  if (p.unitNumber !== undefined) device.unitNumber = p.unitNumber;
  device.yieldOnPoll = p.yieldOnPoll; // required by the XSD, even in a remove
  return { $type: "VirtualDeviceConfigSpec", operation: "remove", device };
}
