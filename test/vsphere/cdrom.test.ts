// CD-ROM device reading and specs: free-slot choice over decoded device lists (table), and the
// add-with-a-new-SATA-controller spec applied to a simulator VM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addCdrom, cdromView, freeCdromSlot, readCdromConfig, reconfigDevices } from "../../src/vsphere/cdrom.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { SimFixture } from "../support/vsphere/sim.ts";

const ide = (key: number, busNumber: number) => ({ $type: "VirtualIDEController", key, busNumber, controllerKey: 100, unitNumber: busNumber });
const sata = (key: number, busNumber: number) => ({ $type: "VirtualAHCIController", key, busNumber, controllerKey: 100, unitNumber: 17 + busNumber });
const dev = (type: string, key: number, controllerKey: number, unitNumber: number) => ({ $type: type, key, controllerKey, unitNumber });
const pci = { $type: "VirtualPCIController", key: 100, busNumber: 0 };

describe("freeCdromSlot", () => {
  test.each([
    ["empty IDE 0", [pci, ide(200, 0), ide(201, 1)], { controllerKey: 200, unitNumber: 0 }],
    ["IDE 0 master taken", [pci, ide(200, 0), ide(201, 1), dev("VirtualDisk", 3000, 200, 0)], { controllerKey: 200, unitNumber: 1 }],
    ["IDE 0 full: IDE 1", [pci, ide(200, 0), ide(201, 1), dev("VirtualDisk", 3000, 200, 0), dev("VirtualDisk", 3001, 200, 1)], { controllerKey: 201, unitNumber: 0 }],
    ["IDE full: a free SATA port", [pci, ide(200, 0), ide(201, 1), sata(15000, 0), ...[0, 1].flatMap((u) => [dev("VirtualDisk", 3000 + u, 200, u), dev("VirtualDisk", 3010 + u, 201, u)])], { controllerKey: 15000, unitNumber: 0 }],
    ["IDE full, no SATA", [pci, ide(200, 0), ide(201, 1), ...[0, 1].flatMap((u) => [dev("VirtualDisk", 3000 + u, 200, u), dev("VirtualDisk", 3010 + u, 201, u)])], undefined],
  ])("%s", (_name, devices, want) => {
    expect(freeCdromSlot(cdromView(devices))).toEqual(want);
  });

  test("a CD-ROM's backing and connection are read", () => {
    const v = cdromView([
      { $type: "VirtualCdrom", key: 3002, deviceInfo: { label: "CD/DVD drive 1" }, controllerKey: 200, unitNumber: 0, backing: { $type: "VirtualCdromIsoBackingInfo", fileName: "[ds] a.iso" }, connectable: { connected: "true", startConnected: "false" } },
    ]);
    expect(v.cdroms).toEqual([{ key: 3002, label: "CD/DVD drive 1", controllerKey: 200, unitNumber: 0, backing: { kind: "iso", fileName: "[ds] a.iso" }, connected: true, startConnected: false, allowGuestControl: true }]);
  });
});

describe("against the simulator", () => {
  const fx = new SimFixture();
  let c: VimClient;
  beforeAll(async () => {
    c = await fx.connect(await fx.start({ args: ["-vm", "1", "-host", "1", "-standalone-host", "0"] }));
  });
  afterAll(() => fx.cleanup());

  test("a CD-ROM on a new SATA controller (temporary negative keys) is added", async () => {
    const [vm] = await listVms(c);
    const before = await readCdromConfig(c, vm!.ref);
    expect(before.pciKey).toBeDefined();
    const changes = addCdrom({ controllerKey: -200, unitNumber: 0 }, { kind: "iso", fileName: "[LocalDS_0] esxkit-media/x.iso" }, { connected: true, startConnected: true }, { pciKey: before.pciKey!, busNumber: 0 });
    await reconfigDevices(c, vm!.ref, changes, {}, 10_000);
    const after = await readCdromConfig(c, vm!.ref);
    const added = after.cdroms.find((cd) => cd.backing.kind === "iso");
    const controller = after.controllers.find((k) => k.key === added?.controllerKey);
    expect(controller?.type).toBe("VirtualAHCIController");
    expect(added).toMatchObject({ unitNumber: 0, connected: true, startConnected: true });
  });
});
