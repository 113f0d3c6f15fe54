// ipmitool -I lanplus (suite 3, suite 17, and its own pick) and -I lan (IPMI 1.5, MD5)
// against esxkit's BMC, in front of the in-memory machine and of the vSphere simulator.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { BACKEND_KINDS, type Machine, type MachineLab, startLab } from "../support/bmc/backends.ts";
import { expectFailure, freeipmi, ipmitool, ok } from "../support/bmc/clients.ts";
import { type RunningBmc, startBmc } from "../support/bmc/service.ts";
import { waitFor } from "../support/bmc/vsphere.ts";

// [name, arguments, integrity algorithm ipmitool -vv reports as negotiated]
const CIPHER_MODES: [string, string[], string][] = [
  ["-C 3", ["-C", "3"], "hmac_sha1_96"],
  ["-C 17", ["-C", "17"], "sha256_128"],
  ["no -C", [], "sha256_128"],
];

describe.each(BACKEND_KINDS)("%s backend", (kind) => {
  let lab: MachineLab;
  beforeAll(async () => {
    lab = await startLab(kind, 8);
  });
  afterAll(() => lab.cleanup());

  describe.each(CIPHER_MODES)("ipmitool -I lanplus %s", (mode, cipher, integrity) => {
    let m: Machine;
    let bmc: RunningBmc;
    const tool = (...args: string[]) => ipmitool(bmc.port, "lanplus", cipher, args);

    beforeAll(async () => {
      m = await lab.machine({ power: "on" });
      bmc = await startBmc(m.backend);
    });
    afterAll(() => bmc.stop());

    test("negotiates the suite asked for (without -C: the best offered, 17)", async () => {
      const r = await tool("-vv", "chassis", "power", "status");
      ok(r, "status -vv");
      expect(r.stderr + r.stdout).toMatch(new RegExp(`Negotiated integrity algorithm\\s+: ${integrity}`));
      if (mode === "no -C") expect(r.stderr + r.stdout).toContain("Using best available cipher suite 17");
    });

    test.each([
      // [command, state before, output, state after, boots added]
      ["status", "on", /Chassis Power is on/, "on", 0],
      ["status", "off", /Chassis Power is off/, "off", 0],
      ["on", "off", /Chassis Power Control: Up\/On/, "on", 1],
      ["off", "on", /Chassis Power Control: Down\/Off/, "off", 0],
      ["cycle", "on", /Chassis Power Control: Cycle/, "on", 1],
      ["reset", "on", /Chassis Power Control: Reset/, "on", 1],
      ["soft", "on", /Chassis Power Control: Soft/, "off", 0],
    ] as const)("chassis power %s (VM %s)", async (cmd, before, output, after, boots) => {
      await m.setPower(before);
      const bootsBefore = await m.bootCount();
      expect(ok(await tool("chassis", "power", cmd), `power ${cmd}`)).toMatch(output);
      await bmc.service.drain();
      await m.settled(after);
      expect(await m.power()).toBe(after);
      expect((await m.bootCount()) - bootsBefore).toBe(boots);
      expect(ok(await tool("chassis", "power", "status"), "status")).toContain(`Chassis Power is ${after}`);
    });

    test("chassis power diag: an NMI where the backend can deliver one, else 'command disabled' (D6h)", async () => {
      await m.setPower("on");
      const r = await tool("chassis", "power", "diag");
      if (kind === "memory") expect(ok(r, "diag")).toMatch(/Chassis Power Control: Diag/);
      else expectFailure(r, /command disabled|0xd6/i);
    });

    test("chassis power cycle of a powered-off VM is refused (IPMI §28.3, D5h)", async () => {
      await m.setPower("off");
      expectFailure(await tool("chassis", "power", "cycle"), /not supported in present state|0xd5/i);
      expect(await m.power()).toBe("off");
    });

    test("chassis status reports the real power bits", async () => {
      await m.setPower("on");
      const out = ok(await tool("chassis", "status"), "chassis status");
      expect(out).toMatch(/System Power\s+: on/);
      expect(out).toMatch(/Power Control Fault\s+: false/);
      expect(out).toMatch(/Power Restore Policy\s+: unknown/);
    });

    test.each([
      // [bootdev args, bootparam line expectations]
      [["pxe"], "Force PXE", false],
      [["disk", "options=persistent"], "Force Boot from default Hard-Drive", true],
      [["cdrom", "options=persistent"], "Force Boot from CD/DVD", true],
      [["bios"], "Force Boot into BIOS Setup", false],
    ] as const)("chassis bootdev %p, then bootparam get 5", async (args, selector, persistent) => {
      await m.setPower("on");
      await m.resetBoot();
      expect(ok(await tool("chassis", "bootdev", ...args), "bootdev")).toMatch(/Set Boot Device to/);
      const out = ok(await tool("chassis", "bootparam", "get", "5"), "bootparam get 5");
      expect(out).toContain("Boot Flag Valid");
      expect(out).toContain(persistent ? "Options apply to all future boots" : "Options apply to only next boot");
      expect(out).toContain(`Boot Device Selector : ${selector}`);
      expect(await m.nextBoot()).toBe(args[0]);
    });

    test("chassis bootdev pxe options=persistent,efiboot on a powered-off VM: EFI reported and applied", async () => {
      await m.setPower("off");
      await m.setFirmware("bios");
      ok(await tool("chassis", "bootdev", "pxe", "options=persistent,efiboot"), "bootdev efiboot");
      const out = ok(await tool("chassis", "bootparam", "get", "5"), "bootparam get 5");
      expect(out).toContain("BIOS EFI boot");
      expect(out).toContain("Options apply to all future boots");
      expect(await m.firmware()).toBe("efi");
      ok(await tool("chassis", "bootdev", "disk", "options=persistent"), "bootdev legacy");
      expect(await m.firmware()).toBe("bios");
    });

    test("raw 0x00 0x08 0x03 0x08 (Ironic) answers with success and no data", async () => {
      expect(ok(await tool("raw", "0x00", "0x08", "0x03", "0x08"), "raw").trim()).toBe("");
    });

    test("mc info and mc guid", async () => {
      const info = ok(await tool("mc", "info"), "mc info");
      expect(info).toMatch(/IPMI Version\s+: 2\.0/);
      expect(info).toMatch(/Firmware Revision\s+: \d+\.\d+/);
      expect(info).toMatch(/Chassis Device/);
      const guid = ok(await tool("mc", "guid"), "mc guid");
      expect(guid).toMatch(/System GUID\s+: [0-9a-f-]{36}/);
      expect(guid.match(/System GUID\s+: ([0-9a-f-]{36})/)?.[1]).toBe(bmc.service.identity().guidText);
      expect(guid).toMatch(/GUID Encoding : IPMI\n/);
      expect(guid).not.toContain("WARNING");
    });

    test("lan print 1", async () => {
      const out = ok(await tool("lan", "print", "1"), "lan print");
      expect(out).toMatch(/IP Address Source\s+: Static Address/);
      expect(out).toMatch(/IP Address\s+: 127\.0\.0\.1/);
      expect(out).toMatch(/Subnet Mask\s+: 255\.0\.0\.0/);
      expect(out).toMatch(new RegExp(`MAC Address\\s+: ${bmc.service.identity().macText}`));
      expect(out).toMatch(/RMCP\+ Cipher Suites\s+: 17,3/);
      expect(out).toMatch(/Cipher Suite Priv Max\s+: aaX/);
    });

    test("channel info, and Get Channel Access agrees with it", async () => {
      const out = ok(await tool("channel", "info"), "channel info");
      expect(out).toContain("Channel 0x1 info:");
      expect(out).toMatch(/Channel Medium Type\s+: 802\.3 LAN/);
      expect(out).toMatch(/Session Support\s+: multi-session/);
      expect(out).toMatch(/Active Session Count\s+: [1-9]/);
      expect(out.match(/Access Mode\s+: always available/g)?.length).toBe(2);
      expect(ok(await tool("channel", "info", "1"), "channel info 1")).toContain("Channel 0x1 info:");
    });

    test("channel getciphers ipmi 1 lists suites 17 and 3", async () => {
      const out = ok(await tool("channel", "getciphers", "ipmi", "1"), "getciphers");
      expect(out).toMatch(/^17\s+N\/A\s+hmac_sha256\s+sha256_128\s+aes_cbc_128/m);
      expect(out).toMatch(/^3\s+N\/A\s+hmac_sha1\s+hmac_sha1_96\s+aes_cbc_128/m);
    });
  });

  describe("ipmitool -I lan (IPMI 1.5, MD5)", () => {
    let m: Machine;
    let bmc: RunningBmc;
    const tool = (...args: string[]) => ipmitool(bmc.port, "lan", ["-A", "MD5"], args);
    beforeAll(async () => {
      m = await lab.machine({ power: "off" });
      bmc = await startBmc(m.backend);
    });
    afterAll(() => bmc.stop());

    test("power status / on / off", async () => {
      expect(ok(await tool("chassis", "power", "status"), "status")).toContain("Chassis Power is off");
      expect(ok(await tool("chassis", "power", "on"), "on")).toContain("Up/On");
      await bmc.service.drain();
      await m.settled("on");
      expect(ok(await tool("chassis", "power", "status"), "status")).toContain("Chassis Power is on");
      expect(ok(await tool("chassis", "power", "off"), "off")).toContain("Down/Off");
      await bmc.service.drain();
      await waitFor(async () => (await m.power()) === "off", "VM off");
      await m.settled("off");
      expect(ok(await tool("chassis", "power", "status"), "status")).toContain("Chassis Power is off");
    });

    test("straight password and no authentication are refused unless enabled", async () => {
      expectFailure(await ipmitool(bmc.port, "lan", ["-A", "PASSWORD"], ["chassis", "power", "status"]), /./);
      expectFailure(await ipmitool(bmc.port, "lan", ["-A", "NONE"], ["chassis", "power", "status"]), /./);
    });
  });
});

// ipmitool guesses a GUID's byte order from its version nibbles. Before the derivation kept
// clock_seq_low's high nibble off 1, these BMCs' GUIDs were read as RFC 4122 order: a
// scrambled GUID and "IPMI Specification violation". Both decoders must now agree with us.
describe.each([
  ["bmc-5304", "vm-5304"],
  ["bmc-5863", "vm-5863"],
  ["bmc-8170", "vm-8170"],
])("GUID of %s (VM %s at vc.example)", (name, vm) => {
  let bmc: RunningBmc;
  beforeAll(async () => {
    bmc = await startBmc(new MemoryBackend({ power: "on" }), { name, vcenter: "vc.example", vm: { by: "name", value: vm } });
  });
  afterAll(() => bmc.stop());

  test("ipmitool mc guid decodes it in IPMI order, without a warning", async () => {
    const out = ok(await ipmitool(bmc.port, "lanplus", [], ["mc", "guid"]), "mc guid");
    expect(out).toContain(`System GUID   : ${bmc.service.identity().guidText}\n`);
    expect(out).toContain("GUID Encoding : IPMI\n");
    expect(out).toContain("GUID Version  : Name-based using SHA-1");
  });

  test("bmc-info --get-device-guid prints the same text", async () => {
    expect(ok(await freeipmi("bmc-info", bmc.port, ["--get-device-guid"]), "bmc-info").trim()).toBe(bmc.service.identity().guidText);
  });
});
