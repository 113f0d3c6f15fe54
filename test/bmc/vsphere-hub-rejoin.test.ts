// A BMC that leaves the hub and a new one for the same VM: the newcomer must learn the VM's
// state although the watch's collector never reports that VM as "enter" again (vcsim keeps
// it in its filter; vCenter may fold a quick leave and re-enter into nothing).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { VsphereBackend } from "../../src/bmc/vsphere-backend.ts";
import { VsphereHub } from "../../src/bmc/vsphere-hub.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { startVsphereBmcFixture, type VsphereBmcFixture, waitFor } from "../support/bmc/vsphere.ts";

let f: VsphereBmcFixture;
let hub: VsphereHub;
const backends: VsphereBackend[] = [];

beforeAll(async () => {
  f = await startVsphereBmcFixture({ args: ["-vm", "3"] });
  // Idle VMs leave the watch after 100 ms, so the second case exercises the re-add.
  hub = new VsphereHub({ vcenter: "vc1", getClient: () => f.pool.get("vc1"), logger: silentLogger, retryMs: { initial: 200, max: 1000 }, idleUnwatchMs: 100 });
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
  await hub?.close();
  await f?.cleanup();
});

function backend(vm: string, name: string): VsphereBackend {
  const b = new VsphereBackend({ hub, bmcName: name, selector: { by: "name", value: vm }, maxStalenessMs: 30_000, logger: silentLogger, taskTimeoutMs: 10_000, resolveTimeoutMs: 5_000 });
  backends.push(b);
  return b;
}

async function vmNames(): Promise<string[]> {
  return (await listVms(await f.pool.get("vc1"))).map((v) => v.name).sort();
}

test.each([
  ["at once (a reload restarting the BMC)", 0, 0],
  ["after the VM left the watch", 1000, 1],
])("a new member for the same VM joins %s: it knows the power state and controls the VM", async (_what, pauseMs, index) => {
  const names = await vmNames();
  const vm = names[index];
  const other = names[names.length - 1];
  // Another BMC keeps the watch running throughout, as in a daemon with several BMCs.
  const bystander = backend(other!, `bystander-${pauseMs}`);
  const first = backend(vm!, `first-${pauseMs}`);
  await waitFor(() => first.powerState().state !== "unknown" && bystander.powerState().state !== "unknown", "the first members' power state");
  const before = first.powerState().state;
  await first.close();
  if (pauseMs) await Bun.sleep(pauseMs);

  const second = backend(vm!, `second-${pauseMs}`);
  await waitFor(() => second.powerState().state !== "unknown", "the new member's power state");
  expect(second.powerState()).toEqual({ state: before, fresh: true });

  const target = before === "on" ? "off" : "on";
  await (target === "off" ? second.powerOff() : second.powerOn());
  await waitFor(async () => (await listVms(await f.pool.get("vc1"))).find((v) => v.name === vm)?.powerState === (target === "on" ? "poweredOn" : "poweredOff"), "the VM's new power state");
  // The watch reports the change (our own task confirmed it too; wait for the watch's news).
  await waitFor(() => second.powerState().state === target, "the new member's view of the change");
  await second.close();
  await bystander.close();
}, 60_000);
