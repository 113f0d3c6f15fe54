// HTTP requests a PropertyWatch of N VMs costs at start and per change, for N = 10, 100, 1000
// (or the sizes given), against the simulator. The baseline is polling each VM's power state
// with one request per VM, which costs N requests per poll.
// Run on demand:  bun bench/vsphere/inprocess-watch-cost.ts [N ...]
import type { VimClient } from "../../src/vsphere/client.ts";
import { str } from "../../src/vsphere/convert.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { powerOffVm, powerOnVm } from "../../src/vsphere/vm.ts";
import { PropertyWatch } from "../../src/vsphere/watch.ts";
import { connectSim, eventually } from "../../test/support/vsphere/sim.ts";
import { startVcsim } from "../../test/support/vcsim.ts";

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [10, 100, 1000];
const CHANGES = 5;
const PATHS = ["name", "config.uuid", "config.instanceUuid", "runtime.powerState", "config.bootOptions", "config.firmware"];

async function measure(n: number) {
  const sim = await startVcsim({ mode: "esx", args: ["-vm", String(n)] });
  let ops: VimClient | undefined;
  let wc: VimClient | undefined;
  try {
    ops = await connectSim(sim);
    wc = await connectSim(sim);
    const watch = new PropertyWatch(wc, { kind: "container", type: "VirtualMachine" }, { paths: PATHS, maxWaitSeconds: 30 });
    const r0 = wc.stats.requests;
    const t0 = performance.now();
    await watch.start();
    const startMs = performance.now() - t0;
    const startRequests = wc.stats.requests - r0;
    if (watch.size !== n) throw new Error(`watch saw ${watch.size} VMs, expected ${n}`);

    const vms = (await listVms(ops)).slice(0, CHANGES);
    const perChange: number[] = [];
    const latency: number[] = [];
    for (const vm of vms) {
      const before = wc.stats.requests;
      const wasOn = str(watch.get(vm.ref)?.["runtime.powerState"]) === "poweredOn";
      const t = performance.now();
      if (wasOn) await powerOffVm(ops, vm.ref);
      else await powerOnVm(ops, vm.ref);
      const want = wasOn ? "poweredOff" : "poweredOn";
      await eventually(() => str(watch.get(vm.ref)?.["runtime.powerState"]) === want, 30_000, `update of ${vm.name}`);
      latency.push(performance.now() - t);
      perChange.push(wc.stats.requests - before);
    }
    await watch.stop();
    return { n, startRequests, startMs, perChange, latency };
  } finally {
    await wc?.close();
    await ops?.close();
    await sim.stop();
  }
}

console.log("PropertyWatch request cost (simulator, ESX mode; requests counted at the HTTP transport):");
console.log("     N  start requests  start ms  requests per change (5 changes)  update latency ms  polling baseline per poll");
for (const n of sizes) {
  const r = await measure(n);
  const avg = r.perChange.reduce((a, b) => a + b, 0) / r.perChange.length;
  const lat = [...r.latency].sort((a, b) => a - b)[Math.floor(r.latency.length / 2)] ?? 0;
  console.log(
    `${String(n).padStart(6)}  ${String(r.startRequests).padStart(14)}  ${r.startMs.toFixed(0).padStart(8)}  ${`${r.perChange.join(",")} (avg ${avg.toFixed(1)})`.padStart(31)}  ${lat.toFixed(0).padStart(17)}  ${String(n).padStart(25)}`,
  );
}
console.log("start requests include the long poll the watch leaves pending; the simulator batches changes every 250 ms.");
