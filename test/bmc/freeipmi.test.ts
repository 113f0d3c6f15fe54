// freeipmi (ipmipower, ipmi-chassis, ipmi-config, bmc-info, all -D LAN_2_0) against esxkit's
// BMC, in front of the in-memory machine and of the vSphere simulator.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { BACKEND_KINDS, type Machine, type MachineLab, startLab } from "../support/bmc/backends.ts";
import { freeipmi, ipmitool, ok } from "../support/bmc/clients.ts";
import { type RunningBmc, startBmc } from "../support/bmc/service.ts";
import { lossyRelay } from "../support/bmc/udp.ts";

describe.each(BACKEND_KINDS)("%s backend", (kind) => {
  let lab: MachineLab;
  let m: Machine;
  let bmc: RunningBmc;
  beforeAll(async () => {
    lab = await startLab(kind, 4);
    m = await lab.machine({ power: "on" });
    bmc = await startBmc(m.backend);
  });
  afterAll(async () => {
    await bmc.stop();
    await lab.cleanup();
  });

  test.each([
    // [ipmipower option, state before, output, state after, boots added]
    ["--stat", "on", "127.0.0.1: on", "on", 0],
    ["--stat", "off", "127.0.0.1: off", "off", 0],
    ["--on", "off", "127.0.0.1: ok", "on", 1],
    ["--off", "on", "127.0.0.1: ok", "off", 0],
    ["--cycle", "on", "127.0.0.1: ok", "on", 1],
    ["--reset", "on", "127.0.0.1: ok", "on", 1],
    ["--soft", "on", "127.0.0.1: ok", "off", 0],
  ] as const)("ipmipower %s (VM %s)", async (option, before, output, after, boots) => {
    await m.setPower(before);
    const bootsBefore = await m.bootCount();
    expect(ok(await freeipmi("ipmipower", bmc.port, [option]), `ipmipower ${option}`).trim()).toBe(output);
    await bmc.service.drain();
    await m.settled(after);
    expect((await m.bootCount()) - bootsBefore).toBe(boots);
    expect(ok(await freeipmi("ipmipower", bmc.port, ["--stat"]), "ipmipower --stat").trim()).toBe(`127.0.0.1: ${after}`);
  });

  test("ipmi-chassis --get-chassis-status", async () => {
    await m.setPower("on");
    const out = ok(await freeipmi("ipmi-chassis", bmc.port, ["--get-chassis-status"]), "get-chassis-status");
    expect(out).toMatch(/System Power\s+: on/);
    expect(out).toMatch(/Power control fault\s+: false/);
  });

  test("ipmi-chassis --get-boot-flags shows what ipmitool set", async () => {
    await m.resetBoot();
    ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "bootdev", "cdrom", "options=persistent"]), "bootdev");
    const out = ok(await freeipmi("ipmi-chassis", bmc.port, ["--get-boot-flags"]), "get-boot-flags");
    expect(out).toMatch(/Boot device selector\s+: Force boot from default CD\/DVD/);
    expect(out).toMatch(/BIOS boot type\s+: PC compatible boot/);
  });

  test("ipmi-chassis --set-boot-flags: a valid next-boot write, applied as sent", async () => {
    // freeipmi 1.6's legacy --set-boot-flags writes back the device the BMC reported (its
    // option handling is inverted) as valid + next boot only; the BMC must apply exactly that.
    await m.resetBoot();
    ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "bootdev", "disk", "options=persistent"]), "bootdev disk");
    const set = await freeipmi("ipmi-chassis", bmc.port, ["--set-boot-flags", "--boot-device=pxe", "--debug"]);
    if (set.code !== 0 && !set.stdout.includes("Set System Boot Options Request") && set.stderr.includes("invalid parameters")) {
      // Debian's rebuilt freeipmi 1.6.10-1+b1 refuses the values it has just read, before it
      // sends anything (its own argument check): nothing reached the BMC, so nothing changed.
      expect(await m.nextBoot()).toBe("disk");
      const unchanged = ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "bootparam", "get", "5"]), "bootparam");
      expect(unchanged).toContain("Options apply to all future boots");
      return;
    }
    ok(set, "set-boot-flags");
    const flags = ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "bootparam", "get", "5"]), "bootparam");
    expect(flags).toContain("Boot Flag Valid");
    expect(flags).toContain("Options apply to only next boot");
    expect(flags).toContain("Boot Device Selector : Force Boot from default Hard-Drive");
    expect(await m.nextBoot()).toBe("disk");
  });

  test("ipmi-config --commit Chassis_Boot_Flags (freeipmi's current way to set the boot device)", async () => {
    await m.resetBoot();
    ok(
      await freeipmi("ipmi-config", bmc.port, [
        "--category=chassis",
        "--commit",
        "--key-pair=Chassis_Boot_Flags:Boot_Device=PXE",
        "--key-pair=Chassis_Boot_Flags:Boot_Flags_Persistent=Yes",
      ]),
      "ipmi-config commit",
    );
    expect(await m.nextBoot()).toBe("pxe");
    const out = ok(await freeipmi("ipmi-config", bmc.port, ["--category=chassis", "--checkout", "--section=Chassis_Boot_Flags"]), "checkout");
    expect(out).toMatch(/Boot_Flags_Persistent\s+Yes/);
    expect(out).toMatch(/Boot_Device\s+PXE/);
  });

  test("bmc-info accepts the Device ID reply", async () => {
    const out = ok(await freeipmi("bmc-info", bmc.port, []), "bmc-info");
    expect(out).toMatch(/Device ID\s+: 32/);
    expect(out).toMatch(/IPMI Version\s+: 2\.0/);
    expect(out).toMatch(/Chassis Device\s+: supported/);
    expect(out).toMatch(/Auxiliary Firmware Revision Information : [0-9A-F]{8}h/);
    expect(out).toMatch(/Channel Number\s+: 1/);
  });

  test.each([["--get-device-guid"], ["--get-system-guid"]])("bmc-info %s is the BMC's stable GUID", async (option) => {
    const out = ok(await freeipmi("bmc-info", bmc.port, [option]), `bmc-info ${option}`);
    expect(out.trim()).toBe(bmc.service.identity().guidText);
  });
});

// freeipmi builds each retransmission afresh: new session sequence number AND new rqSeq, so
// the rqSeq match of the response cache cannot see it. Neither must run a power command twice.
describe("ipmipower retransmissions (each with a new rqSeq)", () => {
  test.each([
    ["a reply lost after the cycle finished: the retry is answered, the VM cycles once", 0, 200, true],
    ["retries while the cycle is still running join it", 300, 100, false],
  ])("%s", async (_what, actionDelayMs, retransmitMs, loseReply) => {
    const vm = new MemoryBackend({ power: "on", actionDelayMs });
    const bmc = await startBmc(vm);
    // The Chassis Control reply is the first one sent after the VM came back on.
    const relay = loseReply ? await lossyRelay(bmc.port, () => vm.history.includes("on")) : undefined;
    try {
      const r = await freeipmi("ipmipower", relay?.port ?? bmc.port, ["--cycle", `--retransmission-timeout=${retransmitMs}`, "--debug"]);
      expect(ok(r, "ipmipower --cycle").trim()).toBe("127.0.0.1: ok");
      expect(r.stderr).toContain("Sending retry");
      if (relay) expect(relay.dropped()).toBe(1);
      await bmc.service.drain();
      expect(vm.history).toEqual(["off", "on"]);
      expect(vm.boots.length).toBe(1);
    } finally {
      await relay?.close();
      await bmc.stop();
    }
  });
});
