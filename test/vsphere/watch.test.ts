// PropertyWatch against the simulator: O(1) requests for N objects, updates on change, list
// watches that grow and shrink, and survival of a server-side session termination.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { VimClient } from "../../src/vsphere/client.ts";
import { type DeadlineError, errorCode } from "../../src/errors.ts";
import { moref, obj, str, toBootOptions } from "../../src/vsphere/convert.ts";
import { createContainerView, viewFilterSpec } from "../../src/vsphere/properties.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import { powerOffVm, powerOnVm, reconfigVm } from "../../src/vsphere/vm.ts";
import { type ObjectUpdate, PropertyWatch } from "../../src/vsphere/watch.ts";
import { eventually, SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const PATHS = ["name", "runtime.powerState"];

function powerOf(w: PropertyWatch, vm: VmIdentity): string | undefined {
  return str(w.get(vm.ref)?.["runtime.powerState"]);
}

describe("request cost does not grow with the number of VMs", () => {
  const fx = new SimFixture();
  const startCost: Record<number, number> = {};
  afterAll(() => fx.cleanup());

  // ESX mode: -vm N gives exactly N VMs on the one host.
  test.each([[10], [100]])("watch of %d VMs", async (n) => {
    const sim = await fx.start({ mode: "esx", args: ["-vm", String(n)] });
    const ops = await fx.connect(sim);
    const wc = await fx.connect(sim);
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 2 });
    const before = wc.stats.requests;
    await watch.start();
    try {
      startCost[n] = wc.stats.requests - before;
      expect(watch.size).toBe(n);
      // CreatePropertyCollector, CreateContainerView, CreateFilter, the first WaitForUpdatesEx,
      // and the long poll the background loop has just sent.
      expect(startCost[n]).toBeLessThanOrEqual(5);

      // One change costs one answered WaitForUpdatesEx (plus the next one being issued).
      const vms = await listVms(ops);
      const target = vms.find((v) => v.powerState === "poweredOn")!;
      const beforeChange = wc.stats.requests;
      await powerOffVm(ops, target.ref);
      await eventually(() => powerOf(watch, target) === "poweredOff", 10_000, "the power-off update");
      expect(wc.stats.requests - beforeChange).toBeLessThanOrEqual(3);
    } finally {
      await watch.stop();
    }
  });

  test("start cost is the same for 10 and 100 VMs", () => {
    expect(startCost[10]).toBeDefined();
    expect(startCost[100]).toBe(startCost[10]!);
  });
});

/** Powers `vm` the other way through `ops` and waits (bounded) until `watch` sees the new state. */
async function flipPowerAndWatch(ops: VimClient, watch: PropertyWatch, vm: VmIdentity, timeoutMs: number, what: string): Promise<void> {
  const wasOn = powerOf(watch, vm) === "poweredOn";
  if (wasOn) await powerOffVm(ops, vm.ref);
  else await powerOnVm(ops, vm.ref);
  const want = wasOn ? "poweredOff" : "poweredOn";
  await eventually(() => powerOf(watch, vm) === want, timeoutMs, what);
}

describe.each([["vpx"], ["esx"]] as const)("%s simulator", (mode) => {
  const fx = new SimFixture();
  let sim: Vcsim;
  let ops: VimClient;
  let vms: VmIdentity[];

  beforeAll(async () => {
    sim = await fx.start({ mode, args: ["-vm", "4"] });
    ops = await fx.connect(sim);
    vms = await listVms(ops);
  });
  afterAll(() => fx.cleanup());

  test("container watch: initial enter for every VM, then modify on power changes", async () => {
    const wc = await fx.connect(sim);
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 2 });
    const batches: ObjectUpdate[][] = [];
    watch.onUpdate((u) => batches.push(u));
    await watch.start();
    try {
      expect(batches[0]?.length).toBe(vms.length);
      expect(batches[0]?.every((u) => u.kind === "enter")).toBe(true);
      const vm = vms[0]!;
      await flipPowerAndWatch(ops, watch, vm, 10_000, "power update");
      const mod = batches.flat().find((u) => u.kind === "modify" && u.ref.value === vm.ref.value);
      expect(mod?.changed).toContain("runtime.powerState");
      expect(watch.lastSyncAt).toBeGreaterThan(0);
    } finally {
      await watch.stop();
    }
  });

  test("a ReconfigVM_Task of bootOptions arrives as a modify of config.bootOptions", async () => {
    const wc = await fx.connect(sim);
    const vm = vms[1]!;
    const watch = new PropertyWatch(wc, { kind: "list", type: "VirtualMachine", refs: [vm.ref] }, { paths: ["config.bootOptions"], maxWaitSeconds: 2 });
    const updates: ObjectUpdate[] = [];
    watch.onUpdate((u) => updates.push(...u));
    await watch.start();
    try {
      await reconfigVm(ops, vm.ref, { bootOptions: { enterBIOSSetup: true, bootOrder: [{ kind: "cdrom" }] } });
      const mod = await eventually(() => updates.find((u) => u.kind === "modify" && u.changed.includes("config.bootOptions")), 10_000, "the bootOptions update");
      expect(toBootOptions(mod.props["config.bootOptions"])).toMatchObject({ enterBIOSSetup: true, bootOrder: [{ kind: "cdrom" }] });
    } finally {
      await watch.stop();
      await reconfigVm(ops, vm.ref, { bootOptions: { enterBIOSSetup: false, bootOrder: [] } });
    }
  });

  test("list watch: only the listed VMs; add() and remove() are one request each", async () => {
    const wc = await fx.connect(sim);
    const [a, b, c] = [vms[0]!, vms[1]!, vms[2]!];
    const watch = new PropertyWatch(wc, { kind: "list", type: "VirtualMachine", refs: [a.ref] }, { paths: PATHS, maxWaitSeconds: 2 });
    const updates: ObjectUpdate[] = [];
    watch.onUpdate((u) => updates.push(...u));
    await watch.start();
    try {
      expect([...watch.objects()].map((o) => o.ref.value)).toEqual([a.ref.value]);
      const r0 = watch.requests;
      await watch.add([b.ref, c.ref]);
      expect(watch.requests - r0).toBe(1);
      await eventually(() => watch.size === 3, 10_000, "added VMs to enter");
      expect(updates.filter((u) => u.kind === "enter").map((u) => u.ref.value).sort()).toEqual(
        [a.ref.value, b.ref.value, c.ref.value].sort(),
      );
      await watch.remove([b.ref]);
      expect(watch.get(b.ref)).toBeUndefined();
      expect(updates.some((u) => u.kind === "leave" && u.ref.value === b.ref.value)).toBe(true);
    } finally {
      await watch.stop();
    }
  });

  test("list watch: a nonexistent VM is dropped on add(), and a vanished one on rebuild", async () => {
    const wc = await fx.connect(sim);
    const admin = await fx.connect(sim);
    const [a, b] = [vms[0]!, vms[1]!];
    const watch = new PropertyWatch(wc, { kind: "list", type: "VirtualMachine", refs: [a.ref, b.ref] }, { paths: PATHS, maxWaitSeconds: 1, backoffMs: { initial: 50, max: 500 } });
    const errors: unknown[] = [];
    watch.onError((e) => errors.push(e));
    await watch.start();
    try {
      await watch.add([{ type: "VirtualMachine", value: "vm-gone" }]);
      expect(errors.map((e) => (e as { faultType?: string }).faultType)).toEqual(["ManagedObjectNotFound"]);
      expect(watch.size).toBe(2);

      // b disappears from the inventory; after the session is rebuilt the list no longer holds it.
      if (b.powerState === "poweredOn") await powerOffVm(ops, b.ref);
      await ops.call("UnregisterVM", b.ref);
      await admin.call("TerminateSession", admin.serviceContent.sessionManager!, { sessionId: [wc.session!.key] });
      await eventually(() => watch.size === 1 && wc.stats.relogins === 1, 15_000, "rebuild without the unregistered VM");
      expect(watch.get(a.ref)).toBeDefined();
      expect(watch.get(b.ref)).toBeUndefined();
    } finally {
      await watch.stop();
    }
  });

  test("the watch survives a server-side session termination without the caller noticing", async () => {
    const wc = await fx.connect(sim);
    const admin = await fx.connect(sim);
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 1, backoffMs: { initial: 50, max: 500 } });
    await watch.start();
    try {
      await admin.call("TerminateSession", admin.serviceContent.sessionManager!, { sessionId: [wc.session!.key] });
      const vm = vms[3]!;
      await flipPowerAndWatch(ops, watch, vm, 15_000, "update after re-login");
      expect(wc.stats.relogins).toBe(1);
      expect(watch.size).toBe((await listVms(ops)).length);
    } finally {
      await watch.stop();
    }
  });

  test("a WaitForUpdatesEx longer than timeout_ms succeeds when the call's deadline covers it", async () => {
    const wc = await fx.connect(sim, { timeout_ms: 1000 });
    const sc = wc.serviceContent;
    const pc = moref(await wc.call("CreatePropertyCollector", sc.propertyCollector))!;
    const view = await createContainerView(wc, sc.rootFolder, ["VirtualMachine"]);
    await wc.call("CreateFilter", pc, { spec: viewFilterSpec(view, "VirtualMachine", PATHS), partialUpdates: false });
    const version = str(obj(await wc.call("WaitForUpdatesEx", pc, { version: "" })).version)!;
    // Nothing changes: the server holds each request for maxWaitSeconds, then answers empty.
    const quietPoll = (deadlineMs?: number) =>
      wc.call("WaitForUpdatesEx", pc, { version, options: { maxWaitSeconds: 2 } }, { deadlineMs });
    expect(await quietPoll(2000 + 1000)).toBeUndefined();
    const err = await quietPoll().catch((e: unknown) => e);
    expect(errorCode(err)).toBe("ESX_DEADLINE");
    expect((err as DeadlineError).ms).toBe(1000);
  });

  test("a watch whose maxWaitSeconds exceeds timeout_ms polls quietly without errors", async () => {
    const wc = await fx.connect(sim, { timeout_ms: 1000 });
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 2 });
    const errors: unknown[] = [];
    watch.onError((e) => errors.push(e));
    await watch.start();
    try {
      const afterStart = watch.requests;
      // The background loop's first long poll has to run its full 2 s and be answered before
      // the next one is sent.
      await eventually(() => watch.requests >= afterStart + 2, 15_000, "a second quiet long poll");
      expect(errors).toEqual([]);
      expect(watch.lastError).toBeUndefined();
    } finally {
      await watch.stop();
    }
  });

  test("stop() ends the loop: no requests afterwards", async () => {
    const wc = await fx.connect(sim);
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 1 });
    await watch.start();
    await watch.stop();
    const after = wc.stats.requests;
    await Bun.sleep(1500);
    expect(wc.stats.requests).toBe(after);
  });
});
