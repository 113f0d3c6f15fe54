// Property retrieval, SearchIndex and VM lookup against the simulator (VPX and ESX mode).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AmbiguousError, errorCode, NotFoundError } from "../../src/errors.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { moref, str } from "../../src/vsphere/convert.ts";
import { defaultHost } from "../../src/vsphere/host.ts";
import { retrieveOne, retrieveProperties } from "../../src/vsphere/properties.ts";
import { findByDatastorePath, findByInventoryPath, findByUuid, findVm, listVms } from "../../src/vsphere/search.ts";
import { reconfigVm } from "../../src/vsphere/vm.ts";
import { SimFixture } from "../support/vsphere/sim.ts";

describe.each([["vpx"], ["esx"]] as const)("%s simulator", (mode) => {
  const fx = new SimFixture();
  let c: VimClient;

  beforeAll(async () => {
    const sim = await fx.start({ mode, args: ["-vm", "6"] });
    c = await fx.connect(sim);
  });
  afterAll(() => fx.cleanup());

  test("retrieveProperties over a ContainerView: every VM with the asked paths", async () => {
    const vms = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name", "runtime.powerState", "config.uuid"] });
    expect(vms.length).toBe(mode === "vpx" ? 12 : 6);
    for (const v of vms) {
      expect(v.ref.type).toBe("VirtualMachine");
      expect(Object.keys(v.props).sort()).toEqual(["config.uuid", "name", "runtime.powerState"]);
      expect(["poweredOn", "poweredOff", "suspended"]).toContain(str(v.props["runtime.powerState"]) ?? "(unset)");
    }
  });

  test("standalone ESXi: the ha-* managed objects are found and used; vCenter has none", async () => {
    const sc = c.serviceContent;
    const [dc, ...moreDcs] = await retrieveProperties(c, { type: "Datacenter", paths: ["vmFolder", "hostFolder"] });
    const host = await defaultHost(c);
    const got = [sc.rootFolder.value, sc.propertyCollector.value, sc.searchIndex.value, dc!.ref.value, moref(dc!.props.vmFolder)?.value, host.value];
    if (mode === "esx") {
      expect(got).toEqual(["ha-folder-root", "ha-property-collector", "ha-searchindex", "ha-datacenter", "ha-folder-vm", "ha-host"]);
      expect(moreDcs).toEqual([]);
      expect(c.isVCenter).toBe(false);
    } else {
      expect(got.filter((v) => v?.startsWith("ha-"))).toEqual([]);
      expect(c.isVCenter).toBe(true);
    }
  });

  // The 0.24 simulator ignores maxObjects and answers in one page (no token); paging through
  // ContinueRetrievePropertiesEx is tested against recorded responses in client-recorded.test.ts.
  test("a small page size (maxObjects) is accepted and still yields every object exactly once", async () => {
    const all = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"] });
    const paged = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"], maxObjects: 2 });
    expect(paged.map((o) => o.ref.value).sort()).toEqual(all.map((o) => o.ref.value).sort());
  });

  test("refs mode reads exactly the given objects; retrieveOne; a missing object → NotFoundError", async () => {
    const all = await retrieveProperties(c, { type: "VirtualMachine", paths: [] });
    const two = all.slice(0, 2).map((o) => o.ref);
    const got = await retrieveProperties(c, { type: "VirtualMachine", paths: ["name"], refs: two });
    expect(got.map((o) => o.ref)).toEqual(two);
    const one = await retrieveOne(c, two[0]!, ["name", "config.hardware.device"]);
    expect(typeof one.name).toBe("string");
    expect(Array.isArray(one["config.hardware.device"])).toBe(true);
    const err = await retrieveOne(c, { type: "VirtualMachine", value: "vm-does-not-exist" }, ["name"]).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });

  test("SearchIndex: FindByUuid (BIOS and instance), FindByDatastorePath, FindByInventoryPath", async () => {
    const [vm] = await retrieveProperties(c, {
      type: "VirtualMachine",
      paths: ["name", "config.uuid", "config.instanceUuid", "config.files.vmPathName", "parent"],
    });
    const ref = vm!.ref;
    expect(await findByUuid(c, str(vm!.props["config.uuid"])!)).toEqual(ref);
    expect(await findByUuid(c, str(vm!.props["config.instanceUuid"])!, { instanceUuid: true })).toEqual(ref);
    expect(await findByUuid(c, "00000000-0000-0000-0000-000000000000")).toBeUndefined();

    const [dc] = await retrieveProperties(c, { type: "Datacenter", paths: ["name"] });
    expect(await findByDatastorePath(c, dc!.ref, str(vm!.props["config.files.vmPathName"])!)).toEqual(ref);
    expect(await findByDatastorePath(c, dc!.ref, "[LocalDS_0] nothing/here.vmx")).toBeUndefined();

    const path = `${str(dc!.props.name)}/vm/${str(vm!.props.name)}`;
    expect(await findByInventoryPath(c, path)).toEqual(ref);
    expect(await findByInventoryPath(c, `${path}-missing`)).toBeUndefined();
    expect(moref(vm!.props.parent)).toBeDefined();
  });

  test("findVm by name, BIOS uuid (any case, no dashes) and instance uuid", async () => {
    const vms = await listVms(c);
    const v = vms[3]!;
    expect((await findVm(c, { by: "name", value: v.name })).ref).toEqual(v.ref);
    expect((await findVm(c, { by: "uuid", value: v.uuid!.toUpperCase() })).ref).toEqual(v.ref);
    expect((await findVm(c, { by: "uuid", value: v.uuid!.replace(/-/g, "") })).ref).toEqual(v.ref);
    expect((await findVm(c, { by: "instance_uuid", value: v.instanceUuid! })).ref).toEqual(v.ref);
    const missing = await findVm(c, { by: "name", value: "no-such-vm" }).catch((e) => e);
    expect(errorCode(missing)).toBe("ESX_NOT_FOUND");
    expect(String(missing.message)).toContain('"no-such-vm"');
  });

  test("an ambiguous name → AmbiguousError listing every candidate", async () => {
    const vms = await listVms(c);
    const [a, b] = [vms[0]!, vms[1]!];
    await reconfigVm(c, b.ref, { name: a.name });
    try {
      const err = await findVm(c, { by: "name", value: a.name }).catch((e) => e);
      expect(err).toBeInstanceOf(AmbiguousError);
      expect(errorCode(err)).toBe("ESX_AMBIGUOUS");
      const candidates = (err as AmbiguousError).candidates.join("\n");
      expect(candidates).toContain(a.ref.value);
      expect(candidates).toContain(b.ref.value);
      // The uuid still picks one.
      expect((await findVm(c, { by: "uuid", value: b.uuid! })).ref).toEqual(b.ref);
    } finally {
      await reconfigVm(c, b.ref, { name: b.name });
    }
  });
});
