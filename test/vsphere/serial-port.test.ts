// esxkit's console port: reading serial ports from decoded device lists, the attach planner
// (table), and add / edit / detach through ReconfigVM_Task on the simulator, read back from
// config.hardware.device; a foreign port is never touched. The host's vSPC / remoteSerialPort
// rulesets are read from the simulator's HostSystem.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SerialPortForeignError } from "../../src/errors.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { moref } from "../../src/vsphere/convert.ts";
import { listHosts } from "../../src/vsphere/host.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import { attachSerialPort, detachSerialPort, readSerialFirewall, readSerialState } from "../../src/vsphere/serial-console.ts";
import {
  addSerialPortSpec,
  bmcNameOfServiceUri,
  editSerialPortSpec,
  esxkitServiceUri,
  freeUnit,
  planSerialAttach,
  removeSerialPortSpec,
  type SerialPort,
  serialPortsOf,
} from "../../src/vsphere/serial-port.ts";
import { waitForTask } from "../../src/vsphere/tasks.ts";
import { SimFixture } from "../support/vsphere/sim.ts";

const PROXY = "telnet://esxkit.example:13370";
const uriPort = (key: number, serviceURI: string, over: Record<string, unknown> = {}, proxyURI: string | undefined = PROXY) => ({
  $type: "VirtualSerialPort",
  key,
  deviceInfo: { label: `Serial port ${key - 8999}` },
  backing: { $type: "VirtualSerialPortURIBackingInfo", serviceURI, direction: "server", ...(proxyURI ? { proxyURI } : {}) },
  connectable: { connected: "true", startConnected: "true", allowGuestControl: "false" },
  controllerKey: 400,
  unitNumber: key - 9000,
  yieldOnPoll: "true",
  ...over,
});
const filePort = (key: number) => ({ $type: "VirtualSerialPort", key, deviceInfo: { label: "Serial port 1" }, backing: { $type: "VirtualSerialPortFileBackingInfo", fileName: "[ds] vm/serial.log" }, controllerKey: 400, unitNumber: 0, yieldOnPoll: "false" });

describe("serviceURI marker", () => {
  test.each([["web01"], ["rack 3/node:7"], ["ünï"]])("%s round-trips", (name) => {
    const uri = esxkitServiceUri(name);
    expect(uri.startsWith("esxkit:")).toBe(true);
    expect(uri).not.toMatch(/[\s"]/);
    expect(bmcNameOfServiceUri(uri)).toBe(name);
  });
  test.each([["telnet://:33233"], ["vmware-vspc"], ["esxkit:%E0%A4%A"], ["ESXKIT:x"]])("%s is not esxkit's", (uri) => {
    expect(bmcNameOfServiceUri(uri)).toBeUndefined();
  });
});

describe("serialPortsOf", () => {
  test("reads backing, URIs, flags and ownership; other devices are skipped", () => {
    const ports = serialPortsOf([{ $type: "VirtualSIOController", key: 400 }, uriPort(9001, "esxkit:web01"), filePort(9000)]);
    expect(ports).toEqual([
      { key: 9001, label: "Serial port 2", controllerKey: 400, unitNumber: 1, backing: { kind: "uri", direction: "server", serviceUri: "esxkit:web01", proxyUri: PROXY }, connected: true, startConnected: true, allowGuestControl: false, yieldOnPoll: true, esxkit: true },
      { key: 9000, label: "Serial port 1", controllerKey: 400, unitNumber: 0, backing: { kind: "file", fileName: "[ds] vm/serial.log" }, connected: false, startConnected: false, allowGuestControl: false, yieldOnPoll: false, esxkit: false },
    ]);
  });
});

describe("planSerialAttach", () => {
  const target = { serviceUri: "esxkit:web01", proxyUri: PROXY, poweredOn: true };
  const ports = (...devices: unknown[]) => serialPortsOf(devices);
  test.each([
    ["no serial port: add", ports(), "add", []],
    ["esxkit's port, right: already done", ports(uriPort(9000, "esxkit:web01")), "already-done", []],
    ["esxkit's port, other proxy: edit", ports(uriPort(9000, "esxkit:web01", {}, "telnet://old:1")), "edit", ["proxyURI is telnet://old:1, not telnet://esxkit.example:13370"]],
    ["esxkit's port of a renamed bmc: edit", ports(uriPort(9000, "esxkit:old-name")), "edit", ["serviceURI is esxkit:old-name, not esxkit:web01"]],
    ["esxkit's port, client direction, no proxy: edit", ports(uriPort(9000, "esxkit:web01", { backing: { $type: "VirtualSerialPortURIBackingInfo", serviceURI: "esxkit:web01", direction: "client" } })), "edit", ["direction is client, not server", "proxyURI is (unset), not telnet://esxkit.example:13370"]],
    ["esxkit's port, disconnected, no yield: edit", ports(uriPort(9000, "esxkit:web01", { connectable: { connected: "false", startConnected: "false" }, yieldOnPoll: "false" })), "edit", ["not connected at power on", "not connected", "yieldOnPoll is off"]],
    ["a foreign file port: conflict", ports(filePort(9000)), "conflict", []],
    ["a foreign port pointing at esxkit's proxy: conflict", ports(uriPort(9000, "vmware-vspc")), "conflict", []],
    ["esxkit's and a foreign port: only esxkit's is looked at", ports(filePort(9000), uriPort(9001, "esxkit:web01")), "already-done", []],
    ["two esxkit ports: the one with this serviceURI", ports(uriPort(9000, "esxkit:old"), uriPort(9001, "esxkit:web01")), "already-done", []],
  ] as const)("%s", (_name, given, action, differences) => {
    const plan = planSerialAttach(given, target);
    expect(plan.action).toBe(action);
    if (plan.action === "edit") expect(plan.differences).toEqual([...differences]);
    if (plan.action === "already-done") expect(plan.port.backing).toMatchObject({ serviceUri: "esxkit:web01" });
    if (plan.action === "conflict") {
      expect(plan.foreign.map((p) => p.key)).toEqual([9000]);
      expect(plan.reason).toContain("Serial port 1 (");
    }
  });

  test("a powered-off VM's port is not 'not connected'", () => {
    const p = serialPortsOf([uriPort(9000, "esxkit:web01", { connectable: { connected: "false", startConnected: "true" } })]);
    expect(planSerialAttach(p, { ...target, poweredOn: false }).action).toBe("already-done");
  });

  test("specs refuse a foreign port", () => {
    const [foreign] = serialPortsOf([filePort(9000)]) as [SerialPort];
    expect(() => editSerialPortSpec(foreign, target)).toThrow(/refusing to change Serial port 1 \(file \[ds\] vm\/serial\.log\): esxkit did not create it/);
    expect(() => removeSerialPortSpec(foreign)).toThrow(/refusing to remove/);
  });

  test("a new port goes on the SIO controller's first free unit (shared with floppies)", () => {
    const devices = [{ $type: "VirtualSIOController", key: 400 }, { $type: "VirtualFloppy", key: 8000, controllerKey: 400, unitNumber: 0 }];
    expect(freeUnit(devices, 400)).toBe(1);
    const spec = addSerialPortSpec(devices, target);
    expect(spec).toMatchObject({ operation: "add", device: { $type: "VirtualSerialPort", controllerKey: 400, unitNumber: 1, yieldOnPoll: true } });
    expect(Object.keys((spec as { device: object }).device)).toEqual(["$type", "key", "deviceInfo", "backing", "connectable", "controllerKey", "unitNumber", "yieldOnPoll"]);
  });
});

describe("against the simulator", () => {
  const fx = new SimFixture();
  let c: VimClient;
  let vms: VmIdentity[];
  const target = { serviceUri: esxkitServiceUri("web01"), proxyUri: PROXY };
  beforeAll(async () => {
    const sim = await fx.start({
      args: ["-vm", "2", "-host", "2", "-standalone-host", "0"],
      hosts: { "*": { firewall: { vSPC: false, remoteSerialPort: false } }, DC0_C0_H1: { firewall: { vSPC: true } } },
    });
    c = await fx.connect(sim);
    vms = (await listVms(c)).sort((a, b) => a.name.localeCompare(b.name));
  }, 120_000);
  afterAll(() => fx.cleanup());

  test("attach adds esxkit's port; vSphere records backing, URIs and connection flags", async () => {
    const vm = vms[0] as VmIdentity;
    expect((await readSerialState(c, vm.ref)).ports).toEqual([]);
    const r = await attachSerialPort(c, vm.ref, target);
    expect(r.plan.action).toBe("add");
    const [port, ...rest] = (await readSerialState(c, vm.ref)).ports;
    expect(rest).toEqual([]);
    expect(port).toMatchObject({
      backing: { kind: "uri", direction: "server", serviceUri: "esxkit:web01", proxyUri: PROXY },
      connected: true,
      startConnected: true,
      allowGuestControl: false,
      yieldOnPoll: true,
      esxkit: true,
      controllerKey: 400,
      unitNumber: 0,
    });
    expect(port?.key).toBeGreaterThan(0);
    expect(r.port).toEqual(port as SerialPort);
  });

  test("attach again: already done, nothing changes", async () => {
    const vm = vms[0] as VmIdentity;
    const before = (await readSerialState(c, vm.ref)).ports;
    expect((await attachSerialPort(c, vm.ref, target)).plan.action).toBe("already-done");
    expect((await readSerialState(c, vm.ref)).ports).toEqual(before);
  });

  test("attach with a new proxy_uri edits esxkit's port in place (same key)", async () => {
    const vm = vms[0] as VmIdentity;
    const [before] = (await readSerialState(c, vm.ref)).ports;
    const r = await attachSerialPort(c, vm.ref, { ...target, proxyUri: "telnets://esxkit.example:13371" });
    expect(r.plan).toMatchObject({ action: "edit", differences: ["proxyURI is telnet://esxkit.example:13370, not telnets://esxkit.example:13371"] });
    const after = (await readSerialState(c, vm.ref)).ports;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ key: before?.key, unitNumber: 0, backing: { serviceUri: "esxkit:web01", proxyUri: "telnets://esxkit.example:13371", direction: "server" }, connected: true, startConnected: true, yieldOnPoll: true });
  });

  test("detach removes esxkit's port; a second detach removes nothing", async () => {
    const vm = vms[0] as VmIdentity;
    const r = await detachSerialPort(c, vm.ref);
    expect(r.removed.map((p) => p.backing)).toMatchObject([{ serviceUri: "esxkit:web01" }]);
    expect((await readSerialState(c, vm.ref)).ports).toEqual([]);
    expect((await detachSerialPort(c, vm.ref)).removed).toEqual([]);
  });

  test("a foreign port: attach refuses and names it, detach leaves it, and it is unchanged", async () => {
    const vm = vms[1] as VmIdentity;
    const foreign = { $type: "VirtualSerialPort", key: -601, backing: { $type: "VirtualSerialPortURIBackingInfo", serviceURI: "telnet://:33233", direction: "server" }, connectable: { $type: "VirtualDeviceConnectInfo", startConnected: true, allowGuestControl: true, connected: true }, controllerKey: 400, unitNumber: 0, yieldOnPoll: false };
    const task = moref(await c.call("ReconfigVM_Task", vm.ref, { spec: { $type: "VirtualMachineConfigSpec", deviceChange: [{ $type: "VirtualDeviceConfigSpec", operation: "add", device: foreign }] } }));
    await waitForTask(c, task!, { timeoutMs: 10_000 });
    const before = (await readSerialState(c, vm.ref)).ports;
    expect(before).toHaveLength(1);
    expect(before[0]?.esxkit).toBe(false);
    let err: unknown;
    try {
      await attachSerialPort(c, vm.ref, target);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SerialPortForeignError);
    expect((err as SerialPortForeignError).code).toBe("ESX_SERIAL_FOREIGN");
    expect((err as Error).message).toContain(`${before[0]?.label} (network server telnet://:33233)`);
    expect((await detachSerialPort(c, vm.ref)).foreign.map((p) => p.key)).toEqual([before[0]?.key as number]);
    expect((await readSerialState(c, vm.ref)).ports).toEqual(before);
  });

  test("firewall: vSPC and remoteSerialPort as each host has them, and for a VM's host", async () => {
    const hosts = await listHosts(c);
    const byName = new Map(hosts.map((h) => [String(h.props.name), h.ref]));
    const h0 = await readSerialFirewall(c, byName.get("DC0_C0_H0")!);
    const h1 = await readSerialFirewall(c, byName.get("DC0_C0_H1")!);
    expect(h0).toMatchObject({ hostName: "DC0_C0_H0", vSPC: false, remoteSerialPort: false, open: false });
    expect(h1).toMatchObject({ hostName: "DC0_C0_H1", vSPC: true, remoteSerialPort: false, open: true });
    for (const vm of vms) {
      const { host } = await readSerialState(c, vm.ref);
      const fw = await readSerialFirewall(c, host!);
      expect(fw.open).toBe(fw.hostName === "DC0_C0_H1");
    }
  });
});
