// Time to read the power state of N VMs (default 1000) from the simulator, with reading them
// one object per request as the baseline in the same run.
// Run on demand:  bun bench/vsphere/inprocess-power-state.ts [N] [rounds]
import { str } from "../../src/vsphere/convert.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { connectSim } from "../../test/support/vsphere/sim.ts";
import { startVcsim } from "../../test/support/vcsim.ts";

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 10);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function time<T>(fn: () => Promise<T>, times: number): Promise<{ ms: number; last: T }> {
  const samples: number[] = [];
  let last!: T;
  await fn(); // warm-up: connections, JIT
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    last = await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), last };
}

const sim = await startVcsim({ mode: "esx", args: ["-vm", String(n)] });
const client = await connectSim(sim);
try {
  const paths = ["runtime.powerState"];
  const requests0 = client.stats.requests;
  const view = await time(() => retrieveProperties(client, { type: "VirtualMachine", paths }), rounds);
  const perRead = (client.stats.requests - requests0) / (rounds + 1);
  const states = view.last.map((o) => str(o.props["runtime.powerState"]));
  if (view.last.length !== n || states.some((s) => !s)) throw new Error(`expected ${n} power states, got ${view.last.length}`);

  const paged = await time(() => retrieveProperties(client, { type: "VirtualMachine", paths, maxObjects: 100 }), rounds);

  const refs = view.last.map((o) => o.ref);
  const baseline = await time(
    async () => {
      for (const ref of refs) await retrieveProperties(client, { type: "VirtualMachine", paths, refs: [ref] });
    },
    Math.max(1, Math.floor(rounds / 5)),
  );

  console.log(`power state of ${n} VMs (simulator, ESX mode, loopback HTTPS, median of ${rounds}):`);
  console.log(`  ContainerView + RetrievePropertiesEx:         ${view.ms.toFixed(1)} ms  (${perRead} requests per read)`);
  console.log(`  same with maxObjects=100 (server may ignore):  ${paged.ms.toFixed(1)} ms`);
  console.log(`  baseline, one RetrievePropertiesEx per VM:     ${baseline.ms.toFixed(1)} ms  (${n} requests)`);
  console.log(`  ratio baseline / container view:               ${(baseline.ms / view.ms).toFixed(1)}x`);
} finally {
  await client.close();
  await sim.stop();
}
