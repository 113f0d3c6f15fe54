// The codec against a real peer: our envelopes sent to the govmomi simulator (VPX and ESX mode), its answers
// decoded by our decoder. Escaping is checked end to end by renaming a VM to a hostile name and reading it back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SoapFaultError } from "../../src/errors.ts";
import { asArray, decodeResponse, faultFromResponse } from "../../src/vsphere/soap/decode.ts";
import type { MoRef, SoapValue } from "../../src/vsphere/soap/types.ts";
import { startVcsim } from "../support/vcsim.ts";
import type { Vcsim } from "../support/vcsim.ts";
import { objectFilterSpec, RawSoap, viewFilterSpec } from "../support/vsphere/soap-raw.ts";

interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  searchIndex: MoRef;
  about: { apiType: string };
}
interface ObjectContent {
  obj: MoRef;
  propSet?: { name: string; val: unknown } | Array<{ name: string; val: unknown }>;
}

const HOSTILE = `a&b <c> "d" 'e' ]]> \u00e9\u20ac\u{1F600} &amp;`;

for (const mode of ["vpx", "esx"] as const) {
  describe(`codec against vcsim (${mode})`, () => {
    let sim: Vcsim;
    let soap: RawSoap;
    let sc: ServiceContent;

    beforeAll(async () => {
      sim = await startVcsim({ mode });
      soap = new RawSoap(sim.url, sim.certPem);
      const reply = await soap.call("RetrieveServiceContent", { type: "ServiceInstance", value: "ServiceInstance" });
      expect(reply.status).toBe(200);
      sc = decodeResponse(reply.body) as ServiceContent;
    }, 300_000);
    afterAll(async () => {
      await sim?.stop();
    });

    const call = async (method: string, ref: MoRef, args: Array<[string, SoapValue]> = []) => {
      const reply = await soap.call(method, ref, args);
      if (reply.status !== 200) throw faultFromResponse(reply.body);
      return decodeResponse(reply.body);
    };
    const propsOf = async (ref: MoRef, paths: string[]) => {
      const result = (await call("RetrievePropertiesEx", sc.propertyCollector, [["specSet", objectFilterSpec(ref, paths)], ["options", {}]])) as {
        objects: ObjectContent;
      };
      return Object.fromEntries(asArray(asArray(result.objects)[0]!.propSet).map((p) => [p.name, p.val]));
    };
    const waitTask = async (task: MoRef) => {
      for (let i = 0; i < 100; i++) {
        const info = (await propsOf(task, ["info"])).info as { state: string; error?: { fault: { $type: string } } };
        if (info.state === "success") return;
        if (info.state === "error") throw new Error(`task failed: ${info.error?.fault.$type}`);
        await Bun.sleep(100);
      }
      throw new Error("task did not finish within 10 s");
    };

    test("apiType", () => {
      expect(sc.about.apiType).toBe(mode === "vpx" ? "VirtualCenter" : "HostAgent");
    });

    test("Login with a wrong password full of markup is an InvalidLogin fault", async () => {
      const reply = await soap.call("Login", sc.sessionManager, [["userName", sim.username], ["password", `<x>&"'`]]);
      expect(reply.status).toBe(500);
      const err = faultFromResponse(reply.body);
      expect([err.code, err.faultType]).toEqual(["ESX_SOAP_FAULT", "InvalidLogin"]);
    });

    test("Login, then a hostile VM name survives Rename_Task and RetrievePropertiesEx", async () => {
      await call("Login", sc.sessionManager, [["userName", sim.username], ["password", sim.password]]);
      const view = (await call("CreateContainerView", sc.viewManager, [["container", sc.rootFolder], ["type", ["VirtualMachine"]], ["recursive", true]])) as MoRef;
      const result = (await call("RetrievePropertiesEx", sc.propertyCollector, [["specSet", viewFilterSpec(view, "VirtualMachine", ["name"])], ["options", {}]])) as { objects: ObjectContent[] };
      const vm = asArray(result.objects)[0]!.obj;
      expect(vm.type).toBe("VirtualMachine");

      await waitTask((await call("Rename_Task", vm, [["newName", HOSTILE]])) as MoRef);
      expect((await propsOf(vm, ["name"])).name).toBe(HOSTILE);
    });

    test("ReconfigVM_Task with typed extraConfig values reads back", async () => {
      const path = mode === "vpx" ? "DC0/vm/DC0_H0_VM1" : "ha-datacenter/vm/ha-host_VM1";
      const vm = (await call("FindByInventoryPath", sc.searchIndex, [["inventoryPath", path]])) as MoRef | undefined;
      expect(vm?.type).toBe("VirtualMachine");
      const spec = {
        $type: "VirtualMachineConfigSpec",
        extraConfig: [{ $type: "OptionValue", key: "esxkit.test", value: { $type: "xsd:string", $value: HOSTILE } }],
      };
      await waitTask((await call("ReconfigVM_Task", vm!, [["spec", spec]])) as MoRef);
      const extra = (await propsOf(vm!, ["config.extraConfig"]))["config.extraConfig"] as Array<{ key: string; value: unknown }>;
      expect(Array.isArray(extra)).toBe(true);
      expect(extra.find((o) => o.key === "esxkit.test")?.value).toBe(HOSTILE);
    });

    test("an unknown managed object is a ManagedObjectNotFound fault with its MoRef", async () => {
      const err = await call("PowerOnVM_Task", { type: "VirtualMachine", value: "vm-<&>" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SoapFaultError);
      expect((err as SoapFaultError).faultType).toBe("ManagedObjectNotFound");
      expect((err as SoapFaultError).detail.obj).toEqual({ type: "VirtualMachine", value: "vm-<&>" });
    });
  });
}
