// Ironic's ipmitool driver (metal3 / OpenShift IPI) boot flows, with the exact commands it
// runs: one-shot boot restored after the next power-on or reset, persistent boot, the UEFI
// flag, and `chassis bootparam get 5` reporting the valid/persistent/EFI bits truthfully.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKEND_KINDS, type Machine, type MachineLab, startLab } from "../support/bmc/backends.ts";
import { ok, run } from "../support/bmc/clients.ts";
import { BMC_PASSWORD, BMC_USER, type RunningBmc, startBmc } from "../support/bmc/service.ts";
import { waitFor } from "../support/bmc/vsphere.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-ironic-"));
const passwordFile = join(dir, "pw");
writeFileSync(passwordFile, BMC_PASSWORD, { mode: 0o600 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** As ironic/drivers/modules/ipmitool.py builds it (cipher suite left to ipmitool). */
const ironic = (port: number, ...args: string[]) =>
  run("ipmitool", ["-I", "lanplus", "-H", "127.0.0.1", "-L", "ADMINISTRATOR", "-p", String(port), "-U", BMC_USER, "-R", "12", "-N", "5", "-f", passwordFile, ...args], 60_000);

/** Ironic's UEFI device codes for `raw 0x00 0x08 0x05 <flags> <device> 0 0 0`. */
const UEFI_DEVICE = { pxe: "0x04", disk: "0x08", cdrom: "0x14", bios: "0x18" } as const;

describe.each(BACKEND_KINDS)("%s backend", (kind) => {
  let lab: MachineLab;
  let m: Machine;
  let bmc: RunningBmc;
  const tool = (...args: string[]) => ironic(bmc.port, ...args);
  const bootparam = async () => ok(await tool("chassis", "bootparam", "get", "5"), "bootparam get 5");

  beforeAll(async () => {
    lab = await startLab(kind, 2);
    m = await lab.machine({ power: "off" });
    bmc = await startBmc(m.backend);
  });
  afterAll(async () => {
    await bmc.stop();
    await lab.cleanup();
  });

  test("no override: bootparam get 5 says the flags are not valid", async () => {
    await m.resetBoot();
    const out = await bootparam();
    expect(out).toContain("Boot Flag Invalid");
    expect(out).toContain("Boot Device Selector : No override");
  });

  test("UEFI one-shot PXE: set now, used by the next power-on, then the previous order is back", async () => {
    await m.setPower("off");
    await m.setFirmware("efi");
    await m.resetBoot();
    ok(await tool("raw", "0x00", "0x08", "0x05", "0xe0", UEFI_DEVICE.disk, "0x00", "0x00", "0x00"), "persistent disk");
    expect(await m.nextBoot()).toBe("disk");

    ok(await tool("raw", "0x00", "0x08", "0x03", "0x08"), "disable the 60 s timeout");
    ok(await tool("raw", "0x00", "0x08", "0x05", "0xa0", UEFI_DEVICE.pxe, "0x00", "0x00", "0x00"), "one-shot pxe");
    let out = await bootparam();
    expect(out).toContain("Boot Flag Valid");
    expect(out).toContain("Options apply to only next boot");
    expect(out).toContain("BIOS EFI boot");
    expect(out).toContain("Boot Device Selector : Force PXE");
    expect(await m.nextBoot()).toBe("pxe");

    const boots = await m.bootCount();
    ok(await tool("power", "on"), "power on");
    await bmc.service.drain();
    await m.settled("on");
    expect((await m.bootCount()) - boots).toBe(1);
    await waitFor(async () => (await m.nextBoot()) === "disk", "the previous boot order restored");
    out = await bootparam();
    expect(out).toContain("Options apply to all future boots");
    expect(out).toContain("Boot Device Selector : Force Boot from default Hard-Drive");
    expect(out).toContain("BIOS EFI boot");
  });

  test("legacy one-shot (chassis bootdev pxe) is consumed by a power reset", async () => {
    await m.setPower("off");
    await m.setFirmware("bios");
    await m.resetBoot();
    ok(await tool("chassis", "bootdev", "disk", "options=persistent"), "persistent disk");
    await m.setPower("on");
    ok(await tool("chassis", "bootdev", "pxe"), "one-shot pxe");
    expect(await bootparam()).toContain("BIOS PC Compatible (legacy) boot");
    expect(await m.nextBoot()).toBe("pxe");
    ok(await tool("power", "reset"), "power reset");
    await bmc.service.drain();
    await waitFor(async () => (await m.nextBoot()) === "disk", "the previous boot order restored");
    expect(await bootparam()).toContain("Options apply to all future boots");
  });

  test.each([
    // [flags byte, device, firmware of the powered-off VM afterwards, bootparam lines]
    ["0xe0", "cdrom", "efi", ["Options apply to all future boots", "BIOS EFI boot", "Force Boot from CD/DVD"]],
    ["0xe0", "pxe", "efi", ["Options apply to all future boots", "BIOS EFI boot", "Force PXE"]],
    ["0xc0", "disk", "bios", ["Options apply to all future boots", "BIOS PC Compatible (legacy) boot", "Force Boot from default Hard-Drive"]],
  ] as const)("persistent raw 0x00 0x08 0x05 %s (%s): applied and reported truthfully", async (flags, device, firmware, lines) => {
    await m.setPower("off");
    await m.setFirmware(firmware === "efi" ? "bios" : "efi");
    await m.resetBoot();
    ok(await tool("raw", "0x00", "0x08", "0x05", flags, UEFI_DEVICE[device], "0x00", "0x00", "0x00"), "set boot flags");
    expect(await m.nextBoot()).toBe(device);
    expect(await m.firmware()).toBe(firmware);
    const out = await bootparam();
    for (const line of lines) expect(out).toContain(line);
    // Persistent survives a boot.
    ok(await tool("power", "on"), "power on");
    await bmc.service.drain();
    await m.settled("on");
    expect(await m.nextBoot()).toBe(device);
  });

  test("power status / off / soft / on as Ironic runs them", async () => {
    await m.setPower("on");
    expect(ok(await tool("power", "status"), "status")).toContain("Chassis Power is on");
    ok(await tool("power", "soft"), "soft");
    await bmc.service.drain();
    await m.settled("off");
    ok(await tool("power", "on"), "on");
    await bmc.service.drain();
    await m.settled("on");
    ok(await tool("power", "off"), "off");
    await bmc.service.drain();
    await m.settled("off");
    expect(ok(await tool("power", "status"), "status")).toContain("Chassis Power is off");
  });
});
