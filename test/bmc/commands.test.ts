// The BMC command handlers over the in-memory backend, request bytes in, reply bytes out.
import { describe, expect, test } from "bun:test";
import { makeTestBmc } from "../support/bmc/context.ts";

const APP = 0x06;
const CHASSIS = 0x00;
const TRANSPORT = 0x0c;

describe("App commands", () => {
  test("Get Device ID answers 15 bytes: IPMI 2.0, chassis device, aux firmware revision", async () => {
    const b = makeTestBmc();
    const r = await b.send(APP, 0x01);
    expect(r.cc).toBe(0);
    expect(r.data).toHaveLength(15);
    expect(r.data[0]).toBe(0x20); // device id
    expect(r.data[2]! & 0x80).toBe(0); // device available (not in update mode)
    expect(r.data[4]).toBe(0x02); // IPMI version 2.0
    expect(r.data[5]).toBe(0x80); // chassis device
  });

  test.each([
    ["Get Device GUID", 0x08],
    ["Get System GUID", 0x37],
  ])("%s answers the BMC's 16-byte GUID", async (_name, cmd) => {
    const b = makeTestBmc();
    const r = await b.send(APP, cmd);
    expect(r.cc).toBe(0);
    expect(r.data).toEqual([...b.ctx.identity.guid]);
    expect(r.data).toHaveLength(16);
  });

  test.each([
    ["current channel (0Eh)", 0x0e],
    ["channel 1", 0x01],
  ])("Get Channel Info and Get Channel Access agree on channel 1 for %s", async (_n, ch) => {
    const b = makeTestBmc({ sessions: 3 });
    const info = await b.send(APP, 0x42, [ch]);
    expect(info).toEqual({ cc: 0, data: [0x01, 0x04, 0x01, 0x83, 0xf2, 0x1b, 0x00, 0x00, 0x00] });
    for (const which of [0x40, 0x80]) {
      const access = await b.send(APP, 0x41, [ch, which]);
      expect(access).toEqual({ cc: 0, data: [0x22, 0x04] });
    }
  });

  test.each([
    ["Get Channel Info, channel 2", 0x42, [0x02], 0xcc],
    ["Get Channel Access, channel 2", 0x41, [0x02, 0x80], 0xcc],
    ["Get Channel Access, reserved access type", 0x41, [0x01, 0x00], 0xcc],
    ["Get Channel Info, no data", 0x42, [], 0xc7],
    ["Get Device ID with data", 0x01, [0x00], 0xc7],
    ["Set BMC Global Enables, event buffer on", 0x2e, [0x04], 0xcc],
  ])("%s", async (_n, cmd, data, cc) => {
    const b = makeTestBmc();
    expect(await b.send(APP, cmd, data)).toEqual({ cc, data: [] });
  });

  test("Get Self Test Results reports no error", async () => {
    expect(await makeTestBmc().send(APP, 0x04)).toEqual({ cc: 0, data: [0x55, 0x00] });
  });
});

describe("Chassis status and control", () => {
  test.each([
    ["off", "off", 0x60],
    ["on", "on", 0x61],
  ] as const)("Get Chassis Status for a VM that is %s", async (_n, power, b1) => {
    const b = makeTestBmc({ power });
    expect(await b.send(CHASSIS, 0x01)).toEqual({ cc: 0, data: [b1, 0x00, 0x00] });
  });

  test.each([
    ["Get Chassis Status", CHASSIS, 0x01, []],
    ["Chassis Control (power on)", CHASSIS, 0x02, [0x01]],
    ["Get System Boot Options (flags)", CHASSIS, 0x09, [0x05, 0x00, 0x00]],
    ["Set System Boot Options (flags)", CHASSIS, 0x08, [0x05, 0x80, 0x04, 0, 0, 0]],
  ])("while the hypervisor is unreachable, %s answers C3h at once, never a guess", async (_n, netFn, cmd, data) => {
    const b = makeTestBmc({ power: "off", actionDelayMs: 60_000 });
    b.backend.reachable = false;
    expect(await b.send(netFn, cmd, data)).toEqual({ cc: 0xc3, data: [] });
    expect(b.backend.history).toEqual([]);
  });

  test.each([
    // [name, initial power, control byte, cc, final power, history]
    ["power on", "off", 0x01, 0x00, "on", ["on"]],
    ["power on when on", "on", 0x01, 0x00, "on", ["on"]],
    ["power off", "on", 0x00, 0x00, "off", ["off"]],
    ["power cycle", "on", 0x02, 0x00, "on", ["off", "on"]],
    ["power cycle when off (IPMI §28.3: D5h)", "off", 0x02, 0xd5, "off", []],
    ["hard reset", "on", 0x03, 0x00, "on", ["reset"]],
    ["hard reset when off", "off", 0x03, 0xd5, "off", []],
    ["diagnostic interrupt", "on", 0x04, 0x00, "on", ["nmi"]],
    ["soft shutdown", "on", 0x05, 0x00, "off", ["soft"]],
    ["soft shutdown when off", "off", 0x05, 0x00, "off", []],
    ["reserved control value", "on", 0x06, 0xcc, "on", []],
  ] as const)("%s", async (_n, power, control, cc, final, history) => {
    const b = makeTestBmc({ power });
    const r = await b.send(CHASSIS, 0x02, [control]);
    expect(r).toEqual({ cc, data: [] });
    await b.ctx.actions.drain();
    expect(b.backend.power).toBe(final);
    expect(b.backend.history).toEqual([...history]);
  });

  test("diag where no NMI can be delivered answers D6h (sub-function unavailable)", async () => {
    const b = makeTestBmc({ power: "on", nmi: false });
    expect(await b.send(CHASSIS, 0x02, [0x04])).toEqual({ cc: 0xd6, data: [] });
  });

  test("soft shutdown without a guest agent answers D5h", async () => {
    const b = makeTestBmc({ power: "on", guestTools: false });
    expect((await b.send(CHASSIS, 0x02, [0x05])).cc).toBe(0xd5);
  });

  test("Chassis Control with a wrong length answers C7h", async () => {
    const b = makeTestBmc();
    expect((await b.send(CHASSIS, 0x02, [])).cc).toBe(0xc7);
    expect((await b.send(CHASSIS, 0x02, [1, 0])).cc).toBe(0xc7);
  });

  test("power on via IPMI sets 'last power on via IPMI' and the restart cause", async () => {
    const b = makeTestBmc({ power: "off" });
    await b.send(CHASSIS, 0x02, [0x01]);
    expect(await b.send(CHASSIS, 0x01)).toEqual({ cc: 0, data: [0x61, 0x10, 0x00] });
    expect(await b.send(CHASSIS, 0x07)).toEqual({ cc: 0, data: [0x01, 0x01] });
  });

  test("a slow action answers 'accepted' within the ack window and still completes", async () => {
    const b = makeTestBmc({ power: "off", actionDelayMs: 300, ackMs: 20 });
    const r = await b.send(CHASSIS, 0x02, [0x01]);
    expect(r.cc).toBe(0);
    expect(b.backend.power).toBe("off");
    await b.ctx.actions.drain();
    expect(b.backend.power).toBe("on");
  });
});

describe("System boot options", () => {
  const setFlags = (flags: number[]) => [0x05, ...flags];
  const getFlags = [0x05, 0x00, 0x00];

  test.each([
    // [name, flags written, flags read back]
    ["PXE next boot only (ipmitool bootdev pxe)", [0x80, 0x04, 0, 0, 0], [0x80, 0x04, 0, 0, 0]],
    ["disk, persistent", [0xc0, 0x08, 0, 0, 0], [0xc0, 0x08, 0, 0, 0]],
    ["CD/DVD, persistent, EFI (Ironic raw 0xe0)", [0xe0, 0x14, 0, 0, 0], [0xe0, 0x14, 0, 0, 0]],
    ["BIOS setup, next boot (the VM's firmware is BIOS)", [0xa0, 0x18, 0, 0, 0], [0x80, 0x18, 0, 0, 0]],
    ["remote CD/DVD folds onto cdrom", [0x80, 0x20, 0, 0, 0], [0x80, 0x14, 0, 0, 0]],
    ["flags not valid clears the override", [0x00, 0x04, 0, 0, 0], [0x00, 0x00, 0, 0, 0]],
  ])("%s", async (_n, written, read) => {
    const b = makeTestBmc({ power: "off" });
    expect(await b.send(CHASSIS, 0x08, setFlags(written))).toEqual({ cc: 0, data: [] });
    expect(await b.send(CHASSIS, 0x09, getFlags)).toEqual({ cc: 0, data: [0x01, 0x05, ...read] });
  });

  test("a one-shot device is used by the next power-on only, then the previous order is back", async () => {
    const b = makeTestBmc({ power: "off", boot: { device: "disk", persistent: true, efi: false } });
    await b.send(CHASSIS, 0x08, setFlags([0x80, 0x04, 0, 0, 0]));
    await b.send(CHASSIS, 0x02, [0x01]);
    await b.send(CHASSIS, 0x02, [0x03]);
    await b.ctx.actions.drain();
    expect(b.backend.boots).toEqual(["pxe:bios", "disk:bios"]);
    expect((await b.send(CHASSIS, 0x09, getFlags)).data).toEqual([0x01, 0x05, 0xc0, 0x08, 0, 0, 0]);
  });

  test.each([
    // [name, firmware, power, flags, firmware after]
    ["persistent EFI request on a powered-off BIOS VM switches it to EFI", "bios", "off", 0xe0, "efi"],
    ["persistent legacy request on a powered-off EFI VM switches it to BIOS", "efi", "off", 0xc0, "bios"],
    ["persistent EFI request on a running BIOS VM leaves the firmware", "bios", "on", 0xe0, "bios"],
    ["one-shot EFI request never changes the firmware", "bios", "off", 0xa0, "bios"],
  ] as const)("%s, and Get reports the firmware truthfully", async (_n, firmware, power, b1, after) => {
    const b = makeTestBmc({ power, firmware });
    expect((await b.send(CHASSIS, 0x08, setFlags([b1, 0x04, 0, 0, 0]))).cc).toBe(0);
    expect(b.backend.firmware()).toBe(after);
    const got = (await b.send(CHASSIS, 0x09, getFlags)).data;
    expect(got[2]! & 0x20).toBe(after === "efi" ? 0x20 : 0);
  });

  test("Ironic's 'raw 0x00 0x08 0x03 0x08' (keep the valid bit) is stored and read back", async () => {
    const b = makeTestBmc();
    expect(await b.send(CHASSIS, 0x08, [0x03, 0x08])).toEqual({ cc: 0, data: [] });
    expect(await b.send(CHASSIS, 0x09, [0x03, 0x00, 0x00])).toEqual({ cc: 0, data: [0x01, 0x03, 0x08] });
  });

  test("ipmitool's bootdev sequence: set in progress, ack, flags, commit, complete", async () => {
    const b = makeTestBmc();
    for (const d of [[0x00, 0x01], [0x04, 0x01, 0x01], [0x05, 0x80, 0x04, 0, 0, 0], [0x00, 0x02], [0x00, 0x00]]) {
      expect((await b.send(CHASSIS, 0x08, d)).cc).toBe(0);
    }
    expect(await b.send(CHASSIS, 0x09, [0x00, 0, 0])).toEqual({ cc: 0, data: [0x01, 0x00, 0x00] });
    expect(await b.send(CHASSIS, 0x09, [0x04, 0, 0])).toEqual({ cc: 0, data: [0x01, 0x04, 0x00, 0x01] });
  });

  test.each([
    ["get, unsupported parameter 7", 0x09, [0x07, 0, 0], 0x80],
    ["set, unsupported parameter 1", 0x08, [0x01, 0x00], 0x80],
    ["get, short request", 0x09, [0x05], 0xc7],
    ["set flags, 4 data bytes", 0x08, [0x05, 0x80, 0x04, 0, 0], 0xc7],
    ["set flags, reserved device selector 0Ah", 0x08, [0x05, 0x80, 0x28, 0, 0, 0], 0xcc],
    ["set in progress, reserved value 3", 0x08, [0x00, 0x03], 0xcc],
  ])("%s answers its code with no data", async (_n, cmd, data, cc) => {
    expect(await makeTestBmc().send(CHASSIS, cmd, data)).toEqual({ cc, data: [] });
  });
});

describe("LAN configuration parameters", () => {
  test.each([
    ["0 set in progress", 0x00, [0x00]],
    ["1 auth type support (MD5)", 0x01, [0x04]],
    ["2 auth type enables", 0x02, [0x00, 0x04, 0x04, 0x04, 0x00]],
    ["3 IP address", 0x03, [192, 0, 2, 10]],
    ["4 IP address source (static)", 0x04, [0x01]],
    ["6 subnet mask", 0x06, [255, 255, 255, 0]],
    ["7 IPv4 header parameters", 0x07, [0x40, 0x40, 0x10]],
    ["12 default gateway", 0x0c, [192, 0, 2, 1]],
    ["22 cipher suite entry count", 0x16, [0x02]],
    ["23 cipher suite entries", 0x17, [0x00, 17, 3, ...new Array(14).fill(0)]],
    ["24 cipher suite privileges", 0x18, [0x00, 0x44, 0, 0, 0, 0, 0, 0, 0]],
  ])("parameter %s", async (_n, param, data) => {
    const b = makeTestBmc();
    expect(await b.send(TRANSPORT, 0x02, [0x01, param, 0x00, 0x00])).toEqual({ cc: 0, data: [0x11, ...data] });
  });

  test("parameter 5 is the BMC's MAC, also on the current channel", async () => {
    const b = makeTestBmc();
    expect(await b.send(TRANSPORT, 0x02, [0x0e, 0x05, 0x00, 0x00])).toEqual({ cc: 0, data: [0x11, ...b.ctx.identity.mac] });
  });

  test.each([
    ["unsupported parameter 0x1a", [0x01, 0x1a, 0x00, 0x00], 0x80],
    ["unsupported parameter 13", [0x01, 0x0d, 0x00, 0x00], 0x80],
    ["channel 2", [0x02, 0x03, 0x00, 0x00], 0xcc],
    ["three-byte request", [0x01, 0x03, 0x00], 0xc7],
  ])("%s → no stray data byte", async (_n, data, cc) => {
    expect(await makeTestBmc().send(TRANSPORT, 0x02, data)).toEqual({ cc, data: [] });
  });

  test("revision-only request returns the revision alone", async () => {
    expect(await makeTestBmc().send(TRANSPORT, 0x02, [0x81, 0x03, 0x00, 0x00])).toEqual({ cc: 0, data: [0x11] });
  });

  test("Set LAN Configuration: read-only parameters answer 82h", async () => {
    const b = makeTestBmc();
    expect((await b.send(TRANSPORT, 0x01, [0x01, 0x03, 10, 0, 0, 1])).cc).toBe(0x82);
    expect((await b.send(TRANSPORT, 0x01, [0x01, 0x00, 0x01])).cc).toBe(0x00);
  });
});

describe("unknown and misaddressed commands", () => {
  test.each([
    ["PICMG Get Properties (2C:00)", 0x2c, 0x00, [0x00]],
    ["VITA Get Properties (2C:00 03)", 0x2c, 0x00, [0x03]],
    ["HPM Get Target Upgrade Capabilities (2C:3E)", 0x2c, 0x3e, [0x00, 0x02]],
    ["App FFh", 0x06, 0xff, []],
    ["Storage Get SEL Info", 0x0a, 0x40, []],
  ])("%s → C1h", async (_n, netFn, cmd, data) => {
    expect(await makeTestBmc().send(netFn, cmd, data)).toEqual({ cc: 0xc1, data: [] });
  });

  test("a known command on LUN 1 → C2h", async () => {
    expect(await makeTestBmc().send(APP, 0x01, [], { lun: 1 })).toEqual({ cc: 0xc2, data: [] });
  });
});
