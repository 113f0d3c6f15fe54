// Small pieces of the BMC: identity, LAN address choice, the action queue, and the
// IPMI boot device ↔ vSphere boot options mapping.
import { describe, expect, test } from "bun:test";
import { BmcActionQueue } from "../../src/bmc/action-queue.ts";
import { createIdentity, derivedMac, formatMac, guidFromWire, guidToWire, parseMac } from "../../src/bmc/identity.ts";
import { defaultGateways, lanAddressFor } from "../../src/bmc/lan-address.ts";
import { bootOptionsFor, deviceOfBootOptions } from "../../src/bmc/vsphere-boot.ts";
import { BmcBackendError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log/logger.ts";
import type { BootOptions, VmDevice } from "../../src/vsphere/vim-types.ts";
import type { BootDevice } from "../../src/bmc/backend.ts";

describe("identity", () => {
  test("GUID wire order is the RFC 4122 bytes reversed (IPMI v2.0 §20.8), and round-trips", () => {
    const text = "00112233-4455-6677-8899-aabbccddeeff";
    expect(Buffer.from(guidToWire(text)).toString("hex")).toBe("ffeeddccbbaa99887766554433221100");
    expect(guidFromWire(guidToWire(text))).toBe(text);
  });

  test("derived GUID: RFC 4122 variant, name-based version; derived MAC: locally administered unicast", () => {
    const id = createIdentity({ name: "b", vcenter: "vc", vm: { by: "uuid", value: "4211-aa" } });
    expect(id.guidText).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // clock_seq_low's high nibble is never 1 (ipmitool would read the GUID in RFC 4122 order).
    for (let i = 0; i < 2000; i++) {
      const g = createIdentity({ name: `b${i}`, vcenter: "vc", vm: { by: "name", value: `vm${i}` } }).guidText;
      expect(g[21]).not.toBe("1");
    }
    expect(id.mac[0]).toBe(0x02);
    expect(id.mac).toEqual(derivedMac("vc", { by: "uuid", value: "4211-aa" }));
  });

  test.each([
    ["00:50:56:AB:cd:01", "00:50:56:ab:cd:01"],
    ["00-50-56-ab-cd-01", "00:50:56:ab:cd:01"],
  ])("MAC %s parses", (text, canonical) => {
    expect(formatMac(parseMac(text))).toBe(canonical);
    expect(formatMac(createIdentity({ name: "b", vcenter: "vc", vm: { by: "name", value: "x" }, mac: text }).mac)).toBe(canonical);
  });

  test.each([["00:50:56:ab:cd"], ["00:50:56:ab:cd:zz"], ["0050.56ab.cd01"]])("MAC %s is refused with a message naming it", (text) => {
    expect(() => parseMac(text)).toThrow(text);
  });
});

describe("LAN address", () => {
  test("a specific IPv4 bind reports that address and its interface mask", () => {
    expect(lanAddressFor("127.0.0.1", "127.0.0.1")).toMatchObject({ ip: Uint8Array.from([127, 0, 0, 1]), mask: Uint8Array.from([255, 0, 0, 0]) });
  });

  test("a wildcard bind reports the interface on the client's subnet", () => {
    for (const bind of ["0.0.0.0", "::"]) {
      expect(lanAddressFor(bind, "127.0.0.1").ip).toEqual(Uint8Array.from([127, 0, 0, 1]));
      expect(lanAddressFor(bind, "::ffff:127.0.0.1").ip).toEqual(Uint8Array.from([127, 0, 0, 1]));
    }
  });

  test("default gateways come from /proc/net/route (host byte order)", () => {
    const table = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
      "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0",
    ].join("\n");
    expect(defaultGateways(table).get("eth0")).toBe(((192 << 24) | (168 << 16) | (2 << 8) | 1) >>> 0);
  });
});

describe("action queue", () => {
  const queue = (ackMs = 1000) => new BmcActionQueue({ ackMs, logger: silentLogger });

  test("actions run one at a time in order; a repeat of the action in progress joins it", async () => {
    const q = queue();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`start ${name}`);
      await Bun.sleep(5);
      log.push(`end ${name}`);
    };
    const a = q.run("power:cycle", step("cycle"));
    const b = q.run("power:cycle", step("cycle again"));
    expect(b).toBe(a);
    await Promise.all([a, q.run("power:off", step("off")), q.run("power:on", step("on")), q.run("power:off", step("off2"))]);
    expect(log).toEqual(["start cycle", "end cycle", "start off", "end off", "start on", "end on", "start off2", "end off2"]);
  });

  test("a failure inside the ack window answers its completion code; a slow action answers 0 and goes on", async () => {
    const q = queue(30);
    expect(await q.submit("power:reset", async () => {
      throw new BmcBackendError("invalid_state", "off");
    })).toBe(0xd5);
    let done = false;
    expect(await q.submit("power:on", async () => {
      await Bun.sleep(200);
      done = true;
    })).toBe(0);
    expect(done).toBe(false);
    await q.drain();
    expect(done).toBe(true);
  });
});

describe("vSphere boot options", () => {
  const devices: VmDevice[] = [
    { key: 2000, type: "VirtualDisk", kind: "disk" },
    { key: 2001, type: "VirtualDisk", kind: "disk" },
    { key: 4000, type: "VirtualVmxnet3", kind: "ethernet" },
    { key: 3002, type: "VirtualCdrom", kind: "cdrom" },
  ];

  test.each<[BootDevice, BootOptions]>([
    ["pxe", { bootOrder: [{ kind: "ethernet", deviceKey: 4000 }], enterBIOSSetup: false }],
    ["disk", { bootOrder: [{ kind: "disk", deviceKey: 2000 }, { kind: "disk", deviceKey: 2001 }], enterBIOSSetup: false }],
    ["cdrom", { bootOrder: [{ kind: "cdrom" }], enterBIOSSetup: false }],
    ["none", { bootOrder: [], enterBIOSSetup: false }],
    ["bios", { bootOrder: [{ kind: "cdrom" }], enterBIOSSetup: true }],
  ])("%s", (device, expected) => {
    const next = bootOptionsFor(device, { bootDelay: 3000, bootOrder: [{ kind: "cdrom" }] }, devices);
    expect(next).toEqual({ bootDelay: 3000, ...expected });
  });

  test.each([
    [{ bootOrder: [{ kind: "ethernet" as const, deviceKey: 1 }] }, { device: "pxe", persistent: true }],
    [{ bootOrder: [] }, { device: "none", persistent: false }],
    [{ enterBIOSSetup: true, bootOrder: [{ kind: "disk" as const, deviceKey: 1 }] }, { device: "bios", persistent: false }],
  ])("%p reads back as %p", (options, expected) => {
    expect(deviceOfBootOptions(options)).toEqual(expected as never);
  });

  test.each([
    ["pxe", [], "invalid_state"],
    ["diag", devices, "unsupported"],
  ] as const)("%s without what it needs is refused (%s)", (device, devs, reason) => {
    expect(() => bootOptionsFor(device, {}, [...devs])).toThrow(expect.objectContaining({ reason }));
  });
});
