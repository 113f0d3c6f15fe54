// The vSphere backend against the govmomi simulator: power through tasks, power state from
// the watch, boot devices through bootOptions, one-shot restore (also across a restart),
// re-resolution, and bounded answers while vCenter does not respond.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorCode } from "../../src/errors.ts";
import { moref, str } from "../../src/vsphere/convert.ts";
import { retrieveOne } from "../../src/vsphere/properties.ts";
import { getBootConfig, getPowerState, listDevices, powerOnVm, registerVm, unregisterVm } from "../../src/vsphere/vm.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { startVsphereBmcFixture, type VsphereBmcFixture, waitFor } from "../support/bmc/vsphere.ts";

let fx: VsphereBmcFixture;
let c: VimClient;
let vms: VmIdentity[];

beforeAll(async () => {
  fx = await startVsphereBmcFixture({ args: ["-vm", "4"] });
  c = await fx.pool.get("vc1");
  vms = (await listVms(c)).sort((a, b) => a.name.localeCompare(b.name));
});
afterAll(() => fx.cleanup());

const fresh = (b: { powerState(): { fresh: boolean; state: string } }, state: string) => () =>
  b.powerState().fresh && b.powerState().state === state;

describe("power", () => {
  test("status comes from the watch; on/off/reset/cycle/soft map to tasks", async () => {
    const b = fx.backend({ by: "name", value: vms[0]!.name });
    await waitFor(fresh(b, "on"), "initial power state");
    await b.powerOff();
    expect(await getPowerState(c, vms[0]!.ref)).toBe("poweredOff");
    expect(b.powerState()).toEqual({ state: "off", fresh: true });
    await b.powerOff(); // already off: no error
    await b.powerOn();
    expect(await getPowerState(c, vms[0]!.ref)).toBe("poweredOn");
    await b.reset();
    await b.cycle();
    expect(await getPowerState(c, vms[0]!.ref)).toBe("poweredOn");
    await b.shutdownGuest();
    await waitFor(fresh(b, "off"), "off after a guest shutdown");
    const err = await b.reset().catch((e) => e);
    expect(errorCode(err)).toBe("ESX_BMC_BACKEND");
    expect(err.reason).toBe("invalid_state");
  });

  test("a power change made elsewhere reaches the status through the watch", async () => {
    const b = fx.backend({ by: "uuid", value: vms[1]!.uuid! });
    await waitFor(() => b.powerState().fresh, "power state");
    const before = b.powerState().state;
    const requests = c.stats.requests;
    for (let i = 0; i < 100; i++) b.powerState();
    expect(c.stats.requests).toBe(requests);
    if (before === "on") {
      await b.powerOff();
    }
    await powerOnVm(c, vms[1]!.ref);
    await waitFor(fresh(b, "on"), "watch update to poweredOn");
  });

  test("diag: the simulator has no SendNMI, so it is refused as unsupported", async () => {
    const b = fx.backend({ by: "instance_uuid", value: vms[2]!.instanceUuid! });
    const err = await b.nmi().catch((e) => e);
    expect(errorCode(err)).toBe("ESX_BMC_BACKEND");
    expect(err.reason).toBe("unsupported");
  });

  test("a VM that does not exist: unknown state, actions refused at once", async () => {
    const b = fx.backend({ by: "name", value: "no-such-vm" }, { resolveTimeoutMs: 30_000 });
    await Bun.sleep(100);
    expect(b.powerState()).toEqual({ state: "unknown", fresh: false });
    const started = Date.now();
    const err = await b.powerOn().catch((e) => e);
    expect(err.reason).toBe("unavailable");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("the BMCs above (by name, BIOS uuid, instance uuid) share one vCenter session: one login", async () => {
    expect(await fx.pool.get("vc1")).toBe(c);
    expect(c.stats.logins).toBe(1);
    expect(c.stats.relogins).toBe(0);
  });
});

describe("boot devices", () => {
  test.each([
    ["pxe", "ethernet"],
    ["disk", "disk"],
    ["cdrom", "cdrom"],
  ] as const)("persistent %s sets bootOrder to %s devices and reads back as persistent", async (device, kind) => {
    const b = fx.backend({ by: "name", value: vms[3]!.name }, { name: `persist-${device}` });
    await b.setBoot({ device, persistent: true, efi: false });
    const cfg = await getBootConfig(c, vms[3]!.ref);
    expect(cfg.bootOptions.bootOrder?.length).toBeGreaterThan(0);
    expect(cfg.bootOptions.bootOrder?.every((d) => d.kind === kind)).toBe(true);
    expect(await b.getBoot()).toEqual({ device, persistent: true, efi: cfg.firmware === "efi" });
    await b.close();
  });

  test("bios → enterBIOSSetup (one-shot by nature); none clears the boot order", async () => {
    const b = fx.backend({ by: "name", value: vms[3]!.name }, { name: "bios" });
    await b.setBoot({ device: "bios", persistent: false, efi: false });
    expect((await getBootConfig(c, vms[3]!.ref)).bootOptions.enterBIOSSetup).toBe(true);
    expect((await b.getBoot()).device).toBe("bios");
    await b.setBoot({ device: "none", persistent: false, efi: false });
    const cfg = await getBootConfig(c, vms[3]!.ref);
    expect(cfg.bootOptions.enterBIOSSetup).toBe(false);
    expect(cfg.bootOptions.bootOrder ?? []).toEqual([]);
    expect((await b.getBoot()).device).toBe("none");
    await b.close();
  });

  test("one-shot: set now, restored after the next power-on", async () => {
    const vm = vms[0]!;
    const b = fx.backend({ by: "name", value: vm.name }, { name: "oneshot" });
    const disks = (await listDevices(c, vm.ref)).filter((d) => d.kind === "disk");
    await b.setBoot({ device: "disk", persistent: true, efi: false });
    await waitFor(() => b.powerState().fresh, "state");
    if (b.powerState().state === "on") await b.powerOff();
    await b.setBoot({ device: "pxe", persistent: false, efi: false });
    expect(await b.getBoot()).toEqual({ device: "pxe", persistent: false, efi: false });
    expect((await getBootConfig(c, vm.ref)).bootOptions.bootOrder?.[0]?.kind).toBe("ethernet");
    await b.powerOn();
    await waitFor(async () => (await getBootConfig(c, vm.ref)).bootOptions.bootOrder?.[0]?.kind === "disk", "restored boot order");
    expect((await getBootConfig(c, vm.ref)).bootOptions.bootOrder).toEqual(disks.map((d) => ({ kind: "disk", deviceKey: d.key })));
    expect(await b.getBoot()).toEqual({ device: "disk", persistent: true, efi: false });
    await b.close();
  });

  test("a pending restore survives a restart, and a reset consumes it", async () => {
    const vm = vms[1]!;
    const first = fx.backend({ by: "name", value: vm.name }, { name: "restart", oneShotRestoreDelayMs: 60_000 });
    await first.setBoot({ device: "none", persistent: true, efi: false });
    await first.setBoot({ device: "cdrom", persistent: false, efi: false });
    await first.close();
    const second = fx.backend({ by: "name", value: vm.name }, { name: "restart", oneShotRestoreDelayMs: 0 });
    expect((await second.getBoot()).device).toBe("cdrom");
    await waitFor(() => second.powerState().fresh, "state");
    if (second.powerState().state !== "on") await second.powerOn();
    else await second.reset();
    await waitFor(async () => ((await getBootConfig(c, vm.ref)).bootOptions.bootOrder ?? []).length === 0, "restored empty boot order");
    expect((await second.getBoot()).device).toBe("none");
    await second.close();
  });

  test.each([
    ["persistent + EFI on a powered-off VM switches the firmware", true, "off", "efi"],
    ["one-shot + EFI leaves the firmware", false, "off", "bios"],
    ["persistent + EFI on a running VM leaves the firmware", true, "on", "bios"],
  ] as const)("%s", async (_n, persistent, power, firmware) => {
    const vm = vms[2]!;
    const b = fx.backend({ by: "name", value: vm.name }, { name: `fw-${persistent}-${power}` });
    await waitFor(() => b.powerState().fresh, "state");
    await b.setBoot({ device: "disk", persistent: true, efi: false });
    if (power === "off") await b.powerOff();
    else await b.powerOn();
    if ((await getBootConfig(c, vm.ref)).firmware !== "bios") {
      await b.powerOff();
      await b.setBoot({ device: "disk", persistent: true, efi: false });
      if (power === "on") await b.powerOn();
    }
    await b.setBoot({ device: "pxe", persistent, efi: true });
    expect((await getBootConfig(c, vm.ref)).firmware).toBe(firmware);
    expect((await b.getBoot()).efi).toBe(firmware === "efi");
    await b.close();
  });
});

describe("vCenter not answering", () => {
  test("status stays answerable up to max staleness, then stale; actions fail within their deadline", async () => {
    const b = fx.backend({ by: "name", value: vms[2]!.name }, { name: "stale", maxStalenessMs: 1500, resolveTimeoutMs: 1000, taskTimeoutMs: 2000 });
    await waitFor(() => b.powerState().fresh, "fresh state");
    const state = b.powerState().state;
    fx.sim.proc.kill("SIGSTOP");
    try {
      await waitFor(() => !b.powerState().fresh, "stale state", 40_000);
      // The cached value is still the last known one; the BMC layer refuses to report it.
      expect(b.powerState().state).toBe(state);
      const started = Date.now();
      const err = await b.powerOn().catch((e) => e);
      if (state === "off") {
        expect(errorCode(err)).toBe("ESX_BMC_BACKEND");
        expect(err.reason).toBe("unavailable");
      }
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      fx.sim.proc.kill("SIGCONT");
    }
    await waitFor(() => b.powerState().fresh, "fresh again after vCenter answers", 40_000);
  }, 90_000);
});

describe("finding the VM again", () => {
  test("a VM unregistered and registered again (new moref) is found again and answers", async () => {
    const vm = vms[3]!;
    const b = fx.backend({ by: "name", value: vm.name }, { name: "refind" });
    await waitFor(() => b.powerState().fresh, "state");
    await b.powerOff();
    const path = str((await retrieveOne(c, vm.ref, ["config.files.vmPathName"]))["config.files.vmPathName"])!;
    const host = moref((await retrieveOne(c, vm.ref, ["runtime.host"]))["runtime.host"]);
    await unregisterVm(c, vm.ref);
    await waitFor(() => b.powerState().state === "unknown", "VM gone");
    const again = await registerVm(c, { path, name: vm.name, host });
    expect(again.value).not.toBe(vm.ref.value);
    await waitFor(() => b.powerState().fresh && b.describe().includes(again.value), "found again");
    await b.powerOn();
    expect(await getPowerState(c, again)).toBe("poweredOn");
    vms[3] = { ...vm, ref: again };
    await b.close();
  });
});
