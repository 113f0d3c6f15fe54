// esxkit's console port on a VM, through ReconfigVM_Task: read the ports and the host's
// serial-port firewall rulesets, attach (add or edit esxkit's own port), detach (remove only
// esxkit's). Every change is read back, so the caller reports what vSphere recorded.
import { SerialPortForeignError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { arr, moref, str } from "./convert.ts";
import { getFirewallRulesets } from "./host.ts";
import { retrieveOne } from "./properties.ts";
import {
  addSerialPortSpec,
  describeSerialPort,
  editSerialPortSpec,
  planSerialAttach,
  planSerialDetach,
  removeSerialPortSpec,
  type SerialPlan,
  type SerialPort,
  type SerialTarget,
  serialPortsOf,
} from "./serial-port.ts";
import type { MoRef, SoapObject, SoapValue } from "./soap/types.ts";
import { DEFAULT_TASK_TIMEOUT_MS, waitForTask } from "./tasks.ts";

/** The rulesets that let a VM's serial port reach a vSPC: "vSPC" (outbound TCP), or "remoteSerialPort" (outbound TCP, and inbound). */
export const SERIAL_RULESETS = ["vSPC", "remoteSerialPort"] as const;

export interface SerialFirewall {
  host: MoRef;
  hostName: string;
  /** undefined: the host has no such ruleset (or it could not be read). */
  vSPC?: boolean;
  remoteSerialPort?: boolean;
  /** Either ruleset is enabled, so the host may dial out to the vSPC. */
  open: boolean;
}

export interface VmSerialState {
  ports: SerialPort[];
  /** config.hardware.device as read, for planning an add (controller, free unit). */
  devices: SoapValue;
  powerState?: string;
  /** runtime.host; undefined for a VM that is not on a host (orphaned, or inaccessible). */
  host?: MoRef;
}

/** One read of the VM's serial ports, power state and host. */
export async function readSerialState(client: VimClient, vm: MoRef): Promise<VmSerialState> {
  const p = await retrieveOne(client, vm, ["config.hardware.device", "runtime.powerState", "runtime.host"]);
  const host = moref(p["runtime.host"]);
  return { ports: serialPortsOf(p["config.hardware.device"]), devices: p["config.hardware.device"] as SoapValue, powerState: str(p["runtime.powerState"]), ...(host ? { host } : {}) };
}

/** The serial-port firewall rulesets of a host (config.firewall = HostFirewallSystem.firewallInfo). */
export async function readSerialFirewall(client: VimClient, host: MoRef): Promise<SerialFirewall> {
  const [props, rulesets] = await Promise.all([retrieveOne(client, host, ["name"]), getFirewallRulesets(client, host)]);
  const fw: SerialFirewall = { host, hostName: str(props.name) ?? host.value, open: false };
  for (const r of rulesets) if (r.key === "vSPC" || r.key === "remoteSerialPort") fw[r.key] = r.enabled;
  fw.open = fw.vSPC === true || fw.remoteSerialPort === true;
  return fw;
}

/**
 * The other hosts of the host's cluster (its ComputeResource): where a vMotion, DRS or HA may
 * move the VM, and where its serial port must be let out too. Empty for a standalone host.
 */
export async function vmotionPeers(client: VimClient, host: MoRef): Promise<MoRef[]> {
  const parent = moref((await retrieveOne(client, host, ["parent"])).parent);
  if (!parent) return [];
  const hosts = arr((await retrieveOne(client, parent, ["host"])).host);
  return hosts.map(moref).filter((h): h is MoRef => h !== undefined && h.value !== host.value);
}

/**
 * The serial rulesets of the host's cluster peers. A peer that cannot be read is left out: the
 * current host is what the console needs now, and its own read reports its errors.
 */
export async function readPeerFirewalls(client: VimClient, host: MoRef, read: (host: MoRef) => Promise<SerialFirewall> = (h) => readSerialFirewall(client, h)): Promise<SerialFirewall[]> {
  const peers = await vmotionPeers(client, host).catch(() => [] as MoRef[]);
  const all = await Promise.all(peers.map((h) => read(h).catch(() => undefined)));
  return all.filter((fw): fw is SerialFirewall => fw !== undefined);
}

export interface SerialChangeOptions {
  /** Deadline of the ReconfigVM_Task, ms (default 120 s). */
  timeoutMs?: number;
}

async function reconfig(client: VimClient, vm: MoRef, deviceChange: SoapObject[], timeoutMs: number): Promise<void> {
  const task = moref(await client.call("ReconfigVM_Task", vm, { spec: { $type: "VirtualMachineConfigSpec", deviceChange } }));
  if (!task) throw new Error("ReconfigVM_Task returned no task");
  await waitForTask(client, task, { timeoutMs });
}

export interface SerialAttachResult {
  plan: SerialPlan;
  /** esxkit's port as vSphere shows it afterwards. */
  port: SerialPort;
}

/**
 * Make the VM's esxkit port point at `target` (serviceURI esxkit:<bmc>, proxyURI [console] proxy_uri).
 * Throws SerialPortForeignError, changing nothing, when the VM has only ports esxkit did not create.
 */
export async function attachSerialPort(client: VimClient, vm: MoRef, target: Omit<SerialTarget, "poweredOn">, opts: SerialChangeOptions = {}): Promise<SerialAttachResult> {
  const before = await readSerialState(client, vm);
  const plan = planSerialAttach(before.ports, { ...target, poweredOn: before.powerState === "poweredOn" });
  if (plan.action === "conflict") throw new SerialPortForeignError(plan.reason, plan.foreign.map((p) => p.label));
  if (plan.action === "already-done") return { plan, port: plan.port };
  const change = plan.action === "add" ? addSerialPortSpec(before.devices, target) : editSerialPortSpec(plan.port, target);
  await reconfig(client, vm, [change], opts.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS);
  const after = await readSerialState(client, vm);
  const port = after.ports.find((p) => p.esxkit && p.backing.kind === "uri" && p.backing.serviceUri === target.serviceUri);
  if (!port) throw new Error(`ReconfigVM_Task succeeded, but the VM shows no serial port with serviceURI ${target.serviceUri} (${after.ports.map(describeSerialPort).join(", ") || "no serial ports"})`);
  return { plan, port };
}

export interface SerialDetachResult {
  removed: SerialPort[];
  /** Ports esxkit did not create, left as they were. */
  foreign: SerialPort[];
}

/** Remove esxkit's port(s); foreign ports stay. Nothing to remove is not an error. */
export async function detachSerialPort(client: VimClient, vm: MoRef, opts: SerialChangeOptions = {}): Promise<SerialDetachResult> {
  const before = await readSerialState(client, vm);
  const { remove, foreign } = planSerialDetach(before.ports);
  if (remove.length === 0) return { removed: [], foreign };
  await reconfig(client, vm, remove.map(removeSerialPortSpec), opts.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS);
  const after = await readSerialState(client, vm);
  const left = after.ports.filter((p) => remove.some((r) => r.key === p.key));
  if (left.length) throw new Error(`ReconfigVM_Task succeeded, but ${left.map(describeSerialPort).join(", ")} is still there`);
  return { removed: remove, foreign };
}
