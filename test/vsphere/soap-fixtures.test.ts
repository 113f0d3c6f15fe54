// The decoder over recorded responses: simulator captures and vCenter/ESXi-shaped fixtures.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SoapFaultError } from "../../src/errors.ts";
import { asArray, decodeResponse, decodeValue, faultFromResponse, isMoRef, xsiTypeOf } from "../../src/vsphere/soap/decode.ts";
import type { MoRef } from "../../src/vsphere/soap/types.ts";
import type { XmlElement } from "../../src/vsphere/xml/parse.ts";
import { parseXml } from "../../src/vsphere/xml/parse.ts";

const dir = resolve(import.meta.dir, "../fixtures/vim25");
const read = (file: string) => readFileSync(resolve(dir, file), "utf8");
const all = readdirSync(dir).filter((f) => f.endsWith(".xml")).sort();
const faults = all.filter((f) => f.includes("-fault-"));
const responses = all.filter((f) => !f.includes("-fault-"));

interface PropSet {
  name: string;
  val?: unknown;
}
interface ObjectContent {
  obj: MoRef;
  propSet?: PropSet | PropSet[];
  missingSet?: unknown;
}
/** name → val of one ObjectContent */
const props = (oc: ObjectContent) => Object.fromEntries(asArray(oc.propSet).map((p) => [p.name, p.val]));
const objects = (file: string) => asArray((decodeResponse(read(file)) as { objects?: ObjectContent[] }).objects);

describe("every rule holds on every element of every fixture", () => {
  // Walks the raw tree and checks each typed element's decoded value against its xsi:type.
  function check(el: XmlElement, seen: Map<string, number>): void {
    const type = xsiTypeOf(el);
    if (type !== undefined) {
      const v = decodeValue(el);
      const kind = type.startsWith("ArrayOf") ? "ArrayOf*" : type;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      if (type.startsWith("ArrayOf")) expect(Array.isArray(v)).toBe(true);
      else if (type === "ManagedObjectReference") expect(isMoRef(v)).toBe(true);
      else if (["int", "long", "short", "byte"].includes(type)) expect(typeof v).toBe("number");
      else if (type === "boolean") expect(typeof v).toBe("boolean");
      else if (type === "string" || type === "dateTime") expect(v).toBe(el.text);
      else if (el.children.length > 0) expect((v as { $type: string }).$type).toBe(type);
    } else if (el.children.length === 0 && el.attrs.type !== undefined) {
      expect(decodeValue(el)).toEqual({ type: el.attrs.type, value: el.text });
    }
    for (const c of el.children) check(c, seen);
  }

  test.each(all)("%s", (file) => {
    const seen = new Map<string, number>();
    check(parseXml(read(file)), seen);
    if (file.includes("rpex-vms")) {
      for (const kind of ["ArrayOf*", "ManagedObjectReference", "boolean", "string"]) expect(seen.get(kind)).toBeGreaterThan(0);
    }
  });
});

describe("service content and sessions", () => {
  test.each<[string, string, string, string]>([
    ["vcsim-vpx-retrieve-service-content.xml", "VirtualCenter", "group-d1", "propertyCollector"],
    ["vcsim-esx-retrieve-service-content.xml", "HostAgent", "ha-folder-root", "ha-property-collector"],
    ["esxi-retrieve-service-content.xml", "HostAgent", "ha-folder-root", "ha-property-collector"],
  ])("%s", (file, apiType, rootFolder, pc) => {
    const sc = decodeResponse(read(file)) as { about: { apiType: string; version: string }; rootFolder: MoRef; propertyCollector: MoRef };
    expect(sc.about.apiType).toBe(apiType);
    expect(sc.about.version).toMatch(/^\d+\.\d+/);
    expect(sc.rootFolder).toEqual({ type: "Folder", value: rootFolder });
    expect(sc.propertyCollector).toEqual({ type: "PropertyCollector", value: pc });
  });

  test.each(["vcsim-vpx-login.xml", "vcsim-esx-login.xml"])("%s: UserSession", (file) => {
    const s = decodeResponse(read(file)) as { key: string; userName: string };
    expect(s.userName).toBe("user");
    expect(s.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  test.each(["vcsim-vpx-logout.xml", "vcsim-esx-logout.xml"])("%s: no returnval", (file) => {
    expect(decodeResponse(read(file))).toBeUndefined();
  });
});

describe("inventory and properties", () => {
  test.each(["vcsim-vpx-rpex-vms.xml", "vcsim-esx-rpex-vms.xml", "vcenter-rpex-vms.xml"])("%s: VMs", (file) => {
    const list = objects(file);
    expect(list.length).toBeGreaterThanOrEqual(2);
    for (const oc of list) {
      expect(oc.obj.type).toBe("VirtualMachine");
      const p = props(oc);
      expect(typeof p.name).toBe("string");
      expect(["poweredOn", "poweredOff", "suspended"]).toContain(p["runtime.powerState"] as string);
      if (p["runtime.host"] !== undefined) expect((p["runtime.host"] as MoRef).type).toBe("HostSystem");
      if (p.datastore !== undefined) for (const ds of p.datastore as unknown[]) expect(isMoRef(ds)).toBe(true);
      if (p["config.template"] !== undefined) expect(p["config.template"]).toBe(false);
      if (p["config.hardware.device"] !== undefined) {
        const devices = p["config.hardware.device"] as Array<{ $type: string; key: string }>;
        expect(devices.map((d) => d.$type)).toContain("VirtualDisk");
      }
    }
  });

  test("vCenter-shaped VM: entities, single-element arrays, typed numbers, repeated fields", () => {
    const p = props(objects("vcenter-rpex-vms.xml")[0]!);
    expect(p.name).toBe("db & app <prod> 100%25 café €");
    expect(p.datastore).toEqual([{ type: "Datastore", value: "datastore-11" }]);
    expect(p["summary.quickStats.overallCpuUsage"]).toBe(-12);
    expect(p["summary.storage.committed"]).toBe(42949672960);
    expect((p["guest.net"] as Array<{ ipAddress: string[] }>)[0]!.ipAddress).toHaveLength(2);
    expect((p["config.bootOptions"] as { bootOrder: Array<{ $type: string }> }).bootOrder.map((b) => b.$type)).toEqual([
      "VirtualMachineBootOptionsBootableCdromDevice",
      "VirtualMachineBootOptionsBootableDiskDevice",
    ]);
    expect(p.triggeredAlarmState).toEqual([]);
  });

  test.each(["vcsim-vpx-rpex-hosts.xml", "vcsim-esx-rpex-hosts.xml", "vcenter-rpex-host.xml"])("%s: hosts", (file) => {
    for (const oc of objects(file)) {
      const p = props(oc);
      expect((p["config.product"] as { apiType: string }).apiType).toBe("HostAgent");
      if (p.summary !== undefined) expect((p.summary as { $type: string }).$type).toBe("HostListSummary");
    }
  });

  test("single-element ArrayOfInt / ArrayOfString stay arrays", () => {
    const p = props(objects("vcenter-rpex-host.xml")[0]!);
    expect(p["capability.supportedVmfsMajorVersion"]).toEqual([6]);
    expect(p["config.network.dnsConfig.address"]).toEqual(["10.0.0.2"]);
    expect(p["hardware.memorySize"]).toBe(274877906944);
    expect(p["summary.runtime.inMaintenanceMode"]).toBe(true);
  });

  test.each(["vcsim-vpx-rpex-unauthenticated.xml", "vcsim-esx-rpex-unauthenticated.xml"])("%s: missingSet fault", (file) => {
    const [oc] = objects(file);
    const missing = oc!.missingSet as { path: string; fault: { fault: { $type: string } } };
    expect([missing.path, missing.fault.fault.$type]).toEqual(["name", "NotAuthenticated"]);
  });

  test.each<[string, string, string]>([
    ["vcsim-vpx-rpex-task-info.xml", "error", "InvalidPowerState"],
    ["vcsim-esx-rpex-task-info.xml", "error", "InvalidPowerState"],
    ["vcenter-task-info-error.xml", "error", "FileLocked"],
  ])("%s: TaskInfo error", (file, state, faultType) => {
    const info = props(objects(file)[0]!).info as { $type: string; state: string; error: { fault: { $type: string } } };
    expect([info.$type, info.state, info.error.fault.$type]).toEqual(["TaskInfo", state, faultType]);
  });

  test.each(["vcsim-vpx-retrieve-properties.xml", "vcsim-esx-retrieve-properties.xml"])("%s: repeated returnval", (file) => {
    const list = decodeResponse(read(file)) as ObjectContent[];
    expect(Array.isArray(list)).toBe(true);
    expect(list.length).toBeGreaterThanOrEqual(2);
  });

  test.each<[string, string]>([
    ["vcsim-vpx-create-container-view.xml", "ContainerView"],
    ["vcsim-vpx-power-on-task.xml", "Task"],
    ["vcsim-vpx-find-by-uuid.xml", "VirtualMachine"],
    ["vcsim-esx-find-by-uuid.xml", "VirtualMachine"],
    ["vcsim-vpx-create-filter.xml", "PropertyFilter"],
  ])("%s: MoRef returnval", (file, type) => {
    const ref = decodeResponse(read(file));
    expect(isMoRef(ref) && ref.type).toBe(type);
  });

  test.each(["vcsim-vpx-wait-for-updates.xml", "vcsim-esx-wait-for-updates.xml", "vcenter-wait-for-updates.xml"])("%s: UpdateSet", (file) => {
    const set = decodeResponse(read(file)) as { version: string; filterSet: { objectSet: unknown } };
    const changes = asArray(set.filterSet.objectSet as Array<{ obj: MoRef; changeSet?: unknown }>);
    expect(changes.length).toBeGreaterThanOrEqual(1);
    for (const os of changes) {
      expect(os.obj.type).toBe("VirtualMachine");
      for (const c of asArray(os.changeSet as Array<{ name: string; op: string }>)) expect(["assign", "remove"]).toContain(c.op);
    }
  });
});

describe("faults", () => {
  const expected: Record<string, string> = {
    "vcsim-vpx-fault-invalid-login.xml": "InvalidLogin",
    "vcsim-esx-fault-invalid-login.xml": "InvalidLogin",
    "vcsim-vpx-fault-not-authenticated.xml": "NotAuthenticated",
    "vcsim-esx-fault-not-authenticated.xml": "NotAuthenticated",
    "vcsim-vpx-fault-managed-object-not-found.xml": "ManagedObjectNotFound",
    "vcsim-esx-fault-managed-object-not-found.xml": "ManagedObjectNotFound",
    "vcsim-vpx-fault-method-not-found.xml": "InvalidRequest",
    "vcsim-esx-fault-method-not-found.xml": "InvalidRequest",
    "vcenter-fault-file-locked.xml": "FileLocked",
    "vcenter-fault-no-xsi-type.xml": "NotAuthenticated",
    "vcenter-fault-no-detail.xml": "Client",
  };

  test("every fault fixture has an expectation", () => {
    expect(faults.sort()).toEqual(Object.keys(expected).sort());
  });

  test.each(faults)("%s", (file) => {
    const err = faultFromResponse(read(file));
    expect(err.faultType).toBe(expected[file] as string);
    expect(err.detail.$type ?? "Client").toBe(expected[file] as string);
    // decodeResponse on the same body throws the same fault
    let thrown: unknown;
    try {
      decodeResponse(read(file));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SoapFaultError);
    expect((thrown as SoapFaultError).faultType).toBe(err.faultType);
  });

  test("fault details are decoded", () => {
    expect(faultFromResponse(read("vcenter-fault-file-locked.xml")).detail).toEqual({ $type: "FileLocked", file: "[datastore1] db01/db01.vmx" });
    expect(faultFromResponse(read("vcsim-vpx-fault-managed-object-not-found.xml")).detail.obj).toEqual({ type: "VirtualMachine", value: "vm-424242" });
    expect(faultFromResponse(read("vcsim-vpx-fault-invalid-login.xml")).faultString).toBe("Login failure");
    expect(faultFromResponse(read("vcenter-fault-no-detail.xml")).faultString).toBe("Malformed request <Envelope>");
  });

  test("all responses that are not faults decode without throwing", () => {
    for (const file of responses) expect(() => decodeResponse(read(file))).not.toThrow();
  });
});
