// Regenerates test/fixtures/vim25/vcsim-*.xml: real SOAP responses from the govmomi simulator (test/vcsim),
// requested with our own envelopes. Run on demand:  bun test/support/vsphere/capture-vim25-fixtures.ts
// The simulator's UUIDs and timestamps change per run, so tests must not pin those values.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { asArray, decodeResponse } from "../../../src/vsphere/soap/decode.ts";
import type { MoRef, SoapValue } from "../../../src/vsphere/soap/types.ts";
import { startVcsim } from "../vcsim.ts";
import { objectFilterSpec, RawSoap, viewFilterSpec } from "./soap-raw.ts";

const outDir = resolve(import.meta.dir, "../../fixtures/vim25");

const VM_PATHS = [
  "name", "runtime.powerState", "runtime.host", "runtime.connectionState", "runtime.bootTime",
  "config.uuid", "config.instanceUuid", "config.template", "config.bootOptions", "config.firmware",
  "config.hardware.device", "config.extraConfig", "summary", "guest", "datastore", "network", "parent",
  "resourcePool", "layoutEx", "storage", "triggeredAlarmState", "availableField",
]; // prettier-ignore
const HOST_PATHS = [
  "name", "summary", "runtime", "config.product", "config.featureCapability", "config.storageDevice",
  "config.service", "config.firewall", "capability", "hardware.systemInfo", "datastore", "vm", "network", "parent",
]; // prettier-ignore

async function capture(mode: "vpx" | "esx"): Promise<void> {
  const sim = await startVcsim({ mode, tls: false });
  try {
    const soap = new RawSoap(sim.url);
    const save = (name: string, reply: { status: number; body: string }, status = 200) => {
      if (reply.status !== status) throw new Error(`${name}: HTTP ${reply.status}, expected ${status}\n${reply.body}`);
      writeFileSync(resolve(outDir, `vcsim-${mode}-${name}.xml`), reply.body);
      return reply.body;
    };
    const si: MoRef = { type: "ServiceInstance", value: "ServiceInstance" };
    const sc = decodeResponse(save("retrieve-service-content", await soap.call("RetrieveServiceContent", si))) as Record<
      string,
      MoRef
    >;
    const pc = sc.propertyCollector as MoRef;
    const sm = sc.sessionManager as MoRef;
    const root = sc.rootFolder as MoRef;
    const rpex = (specSet: SoapValue, options: SoapValue = {}) =>
      soap.call("RetrievePropertiesEx", pc, [["specSet", specSet], ["options", options]]);

    // Without a session the simulator answers RetrievePropertiesEx with a NotAuthenticated missingSet,
    // and other methods with a NotAuthenticated fault.
    save("rpex-unauthenticated", await rpex(objectFilterSpec(root, ["name"])));
    const viewArgs = (type: string): Array<[string, SoapValue]> => [["container", root], ["type", [type]], ["recursive", true]];
    save("fault-not-authenticated", await soap.call("CreateContainerView", sc.viewManager as MoRef, viewArgs("Folder")), 500);
    save("fault-invalid-login", await soap.call("Login", sm, [["userName", "user"], ["password", "wrong <&>"]]), 500);
    save("login", await soap.call("Login", sm, [["userName", sim.username], ["password", sim.password]]));

    const viewOf = async (type: string, name: string) => {
      return decodeResponse(save(name, await soap.call("CreateContainerView", sc.viewManager as MoRef, viewArgs(type)))) as MoRef;
    };
    const vmView = await viewOf("VirtualMachine", "create-container-view");
    const hostView = await viewOf("HostSystem", "create-container-view-hosts");

    const vms = save("rpex-vms", await rpex(viewFilterSpec(vmView, "VirtualMachine", VM_PATHS)));
    save("rpex-hosts", await rpex(viewFilterSpec(hostView, "HostSystem", HOST_PATHS)));
    const firstVm = (asArray((decodeResponse(vms) as { objects: unknown }).objects)[0] as { obj: MoRef }).obj;
    save("rpex-vm-all", await rpex(objectFilterSpec(firstVm, "all")));

    const paged = decodeResponse(
      save("rpex-paged", await rpex(viewFilterSpec(vmView, "VirtualMachine", ["name"]), { maxObjects: 1 })),
    ) as { token?: string };
    if (paged.token) {
      save("continue-rpex", await soap.call("ContinueRetrievePropertiesEx", pc, [["token", paged.token]]));
    }
    save("retrieve-properties", await soap.call("RetrieveProperties", pc, [["specSet", viewFilterSpec(vmView, "VirtualMachine", ["name"])]]));
    save("rpex-missing-invalid-property", await rpex(objectFilterSpec(firstVm, ["bogus.property"])));
    save("fault-managed-object-not-found", await soap.call("PowerOnVM_Task", { type: "VirtualMachine", value: "vm-424242" }), 500);
    save("fault-method-not-found", await soap.call("NoSuchMethod", si), 500);

    // Powering on a running VM: the task itself is created; its info carries the InvalidPowerState fault.
    const task = decodeResponse(save("power-on-task", await soap.call("PowerOnVM_Task", firstVm))) as MoRef;
    await Bun.sleep(200);
    save("rpex-task-info", await rpex(objectFilterSpec(task, ["info"])));

    const filter = decodeResponse(
      save("create-filter", await soap.call("CreateFilter", pc, [["spec", viewFilterSpec(vmView, "VirtualMachine", ["runtime.powerState", "name"])], ["partialUpdates", false]])),
    ) as MoRef;
    save("wait-for-updates", await soap.call("WaitForUpdatesEx", pc, [["version", ""], ["options", { maxWaitSeconds: 0 }]]));
    void filter;
    const uuid = (asArray((decodeResponse(vms) as { objects: unknown }).objects)[0] as { propSet: unknown }).propSet;
    const biosUuid = asArray(uuid as Array<{ name: string; val: unknown }>).find((p) => p.name === "config.uuid")?.val;
    save("find-by-uuid", await soap.call("FindByUuid", sc.searchIndex as MoRef, [["uuid", String(biosUuid)], ["vmSearch", true]]));
    save("logout", await soap.call("Logout", sm));
  } finally {
    await sim.stop();
  }
}

await capture("vpx");
await capture("esx");
console.log(`fixtures written to ${outDir}`);
