// VM and host operations against the simulator: power ops awaited to the task's end, typed task
// errors, ReconfigVM bootOptions round trip, devices, register/unregister (ESX mode), events,
// and the host properties the doctor reads.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorCode, type SoapFaultError, TaskFailedError } from "../../src/errors.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { str } from "../../src/vsphere/convert.ts";
import { postEvent, queryEvents } from "../../src/vsphere/events.ts";
import {
  defaultHost,
  getFirewallRulesets,
  getHostProperties,
  getHostServices,
  hostDatastores,
  HOST_DOCTOR_PATHS,
} from "../../src/vsphere/host.ts";
import { retrieveOne } from "../../src/vsphere/properties.ts";
import { findByDatastorePath, listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import {
  getBootConfig,
  getPowerState,
  isInvalidPowerState,
  listDevices,
  pollQuestion,
  powerOffVm,
  powerOnVm,
  reconfigVm,
  registerVm,
  resetVm,
  shutdownGuest,
  unregisterVm,
} from "../../src/vsphere/vm.ts";
import { SimFixture } from "../support/vsphere/sim.ts";

describe.each([["vpx"], ["esx"]] as const)("%s simulator", (mode) => {
  const fx = new SimFixture();
  let c: VimClient;
  let vms: VmIdentity[];

  beforeAll(async () => {
    const sim = await fx.start({ mode, args: ["-vm", "3"], hosts: { "*": { featureCapability: { "cpuid.MDCLEAR": "1" } } } });
    c = await fx.connect(sim);
    vms = await listVms(c);
  });
  afterAll(() => fx.cleanup());

  test("power off / on / reset, each awaited to the task's end", async () => {
    const vm = vms[0]!.ref;
    if ((await getPowerState(c, vm)) === "poweredOn") await powerOffVm(c, vm);
    expect(await getPowerState(c, vm)).toBe("poweredOff");
    await powerOnVm(c, vm);
    expect(await getPowerState(c, vm)).toBe("poweredOn");
    await resetVm(c, vm);
    expect(await getPowerState(c, vm)).toBe("poweredOn");
  });

  test("powering on a running VM → TaskFailedError InvalidPowerState", async () => {
    const vm = vms[1]!.ref;
    if ((await getPowerState(c, vm)) !== "poweredOn") await powerOnVm(c, vm);
    const err = await powerOnVm(c, vm).catch((e) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(errorCode(err)).toBe("ESX_TASK_FAILED");
    expect((err as TaskFailedError).faultType).toBe("InvalidPowerState");
    expect(isInvalidPowerState(err)).toBe(true);
  });

  test("ShutdownGuest; on a powered-off VM → SoapFaultError InvalidPowerState", async () => {
    const vm = vms[2]!.ref;
    if ((await getPowerState(c, vm)) !== "poweredOn") await powerOnVm(c, vm);
    await shutdownGuest(c, vm);
    expect(await getPowerState(c, vm)).toBe("poweredOff");
    const err = await shutdownGuest(c, vm).catch((e) => e);
    expect(isInvalidPowerState(err)).toBe(true);
    expect(errorCode(err)).toBe("ESX_SOAP_FAULT");
  });

  test("ReconfigVM bootOptions + firmware round trip", async () => {
    const vm = vms[0]!.ref;
    const devices = await listDevices(c, vm);
    const disk = devices.find((d) => d.kind === "disk");
    const nic = devices.find((d) => d.kind === "ethernet");
    expect(disk).toBeDefined();
    expect(nic?.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    await reconfigVm(c, vm, { firmware: "efi" });
    const bootOrder = [{ kind: "ethernet" as const, deviceKey: nic!.key }, { kind: "disk" as const, deviceKey: disk!.key }, { kind: "cdrom" as const }];
    await reconfigVm(c, vm, {
      bootOptions: { bootDelay: 3000, enterBIOSSetup: true, efiSecureBootEnabled: true, bootRetryEnabled: true, bootRetryDelay: 10000, bootOrder, networkBootProtocol: "ipv6" },
    });
    const got = await getBootConfig(c, vm);
    expect(got.firmware).toBe("efi");
    expect(got.bootOptions).toEqual({
      bootDelay: 3000,
      enterBIOSSetup: true,
      efiSecureBootEnabled: true,
      bootRetryEnabled: true,
      bootRetryDelay: 10000,
      bootOrder,
      networkBootProtocol: "ipv6",
    });

    // A single-element boot order stays an array.
    await reconfigVm(c, vm, { bootOptions: { enterBIOSSetup: false, bootOrder: [{ kind: "cdrom" }] } });
    expect((await getBootConfig(c, vm)).bootOptions.bootOrder).toEqual([{ kind: "cdrom" }]);
  });

  test("a rejected reconfigure surfaces the task's fault type", async () => {
    const vm = vms[1]!.ref;
    await reconfigVm(c, vm, { firmware: "bios" });
    const err = await reconfigVm(c, vm, { bootOptions: { efiSecureBootEnabled: true } }).catch((e) => e);
    expect((err as TaskFailedError).faultType).toBe("InvalidVmConfig");
  });

  test("no pending question → pollQuestion is undefined", async () => {
    expect(await pollQuestion(c, vms[0]!.ref)).toBeUndefined();
  });

  test("events: QueryEvents (or the collector fallback) and PostEvent", async () => {
    // A standalone ESXi host does not implement QueryEvents; queryEvents then reads through an
    // EventHistoryCollector, and the assertions below hold for both paths.
    const direct = await c.call("QueryEvents", c.serviceContent.eventManager!, { filter: { maxCount: 1 } }).then(
      () => "answered",
      (e) => (e as SoapFaultError).faultType,
    );
    expect(direct).toBe(mode === "esx" ? "NotImplemented" : "answered");
    const host = await defaultHost(c);
    const hostName = str((await retrieveOne(c, host, ["name"])).name)!;
    await postEvent(c, {
      eventTypeId: "com.esxkit.test",
      message: `esxkit test event <&> on ${mode}`,
      severity: "warning",
      host: { name: hostName, ref: host },
    });
    const events = await queryEvents(c, { maxCount: 50 });
    const mine = events.find((e) => e.eventTypeId === "com.esxkit.test");
    expect(mine?.type).toBe("EventEx");
    expect(mine?.message).toBe(`esxkit test event <&> on ${mode}`);
    expect(mine?.severity).toBe("warning");
    expect(mine?.host?.host).toEqual(host);
    expect(mine?.userName).toBe(c.session!.userName);
    // Power operations earlier in this file left their own events.
    expect(events.some((e) => e.type === "VmPoweredOnEvent")).toBe(true);
    // Oldest first.
    expect(events.map((e) => e.key)).toEqual([...events.map((e) => e.key)].sort((a, b) => a - b));
    const onlyOn = await queryEvents(c, { eventTypeIds: ["VmPoweredOnEvent"], maxCount: 10 });
    expect(onlyOn.length).toBeGreaterThan(0);
    expect(onlyOn.every((e) => e.type === "VmPoweredOnEvent")).toBe(true);
  });

  test("host properties for the doctor, services, firewall, datastores", async () => {
    const host = await defaultHost(c);
    const p = await getHostProperties(c, host);
    for (const path of ["name", "config.product", "config.featureCapability", "config.storageDevice", "summary", "runtime"]) {
      expect(p[path]).toBeDefined();
    }
    expect(p["config.featureCapability"]).toContainEqual({ $type: "HostFeatureCapability", key: "cpuid.MDCLEAR", featureName: "cpuid.MDCLEAR", value: "1" });
    expect(Object.keys(p).every((k) => HOST_DOCTOR_PATHS.includes(k))).toBe(true);
    expect(str((p["config.product"] as Record<string, unknown>).build)).toMatch(/^\d+$/);
    const services = await getHostServices(c, host);
    expect(services.length).toBeGreaterThan(0);
    expect(services.every((s) => typeof s.running === "boolean" && s.key !== "")).toBe(true);
    const rulesets = await getFirewallRulesets(c, host);
    expect(rulesets.length).toBeGreaterThan(0);
    const ds = await hostDatastores(c, host);
    expect(ds.length).toBeGreaterThan(0);
    // vCenter says ds:///vmfs/volumes/<uuid>/; the simulator gives its backing directory.
    expect(ds[0]!.name).toBe("LocalDS_0");
    expect(ds[0]!.url).not.toBe("");
    expect(ds[0]!.accessible).toBe(true);
  });
});

describe("esx mode: UnregisterVM and RegisterVM_Task", () => {
  const fx = new SimFixture();
  let c: VimClient;
  beforeAll(async () => {
    const sim = await fx.start({ mode: "esx", args: ["-vm", "2"] });
    c = await fx.connect(sim);
  });
  afterAll(() => fx.cleanup());

  test("unregister a powered-off VM, register it again from its vmx path, AlreadyExists the second time", async () => {
    const [vm] = await listVms(c);
    const props = await retrieveOne(c, vm!.ref, ["config.files.vmPathName", "name"]);
    const path = str(props["config.files.vmPathName"])!;
    if (vm!.powerState === "poweredOn") await powerOffVm(c, vm!.ref);
    await unregisterVm(c, vm!.ref);
    const dc = { type: "Datacenter", value: "ha-datacenter" };
    expect(await findByDatastorePath(c, dc, path)).toBeUndefined();

    const host = await defaultHost(c);
    expect(host).toEqual({ type: "HostSystem", value: "ha-host" });
    const ref = await registerVm(c, { path, name: str(props.name), host });
    expect(ref.type).toBe("VirtualMachine");
    // The default folder on a standalone host is ha-datacenter's vmFolder.
    expect((await retrieveOne(c, ref, ["parent"])).parent).toEqual({ type: "Folder", value: "ha-folder-vm" });
    expect(await findByDatastorePath(c, dc, path)).toEqual(ref);
    await powerOnVm(c, ref);
    expect(await getPowerState(c, ref)).toBe("poweredOn");

    const again = await registerVm(c, { path, name: str(props.name), host }).catch((e) => e);
    expect((again as TaskFailedError).faultType).toBe("AlreadyExists");
  });
});
