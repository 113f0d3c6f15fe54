// On demand: median wall time of `ipmitool -I lanplus -C 3 chassis power status` against the
// session engine (in-memory chassis) and, in the same run, against OpenIPMI's ipmi_sim, as a
// ratio. Also suite 17 against the engine, and the engine's session setup cost in-process.
//   node_modules/.bin/bun bench/ipmi/inprocess-ipmitool-latency.ts [runs=50]
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { ADMIN, run, startEngine, startIpmiSim } from "../../test/support/ipmi/peers.ts";

const runs = Number(process.argv[2] ?? 50);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timeIpmitool(port: number, suite: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await run("ipmitool", ["-I", "lanplus", "-C", suite, "-H", "127.0.0.1", "-p", String(port), "-U", ADMIN.name, "-P", ADMIN.password, "chassis", "power", "status"], 30_000);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`ipmitool failed: ${r.stderr}`);
    out.push(ms);
  }
  return out;
}

const engine = await startEngine({ cipherSuites: [17, 3] });
const sim = await startIpmiSim();
try {
  // Interleave warm-up so neither side profits from a cold cache.
  await timeIpmitool(engine.port, "3");
  await timeIpmitool(sim.port, "3");
  const e3 = median(await timeIpmitool(engine.port, "3"));
  const s3 = median(await timeIpmitool(sim.port, "3"));
  const e17 = median(await timeIpmitool(engine.port, "17"));
  const setups: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c = await IpmiClient.connect({ host: "127.0.0.1", port: engine.port, username: ADMIN.name, password: ADMIN.password });
    await c.chassisStatus();
    await c.close();
    setups.push(performance.now() - t0);
  }
  console.log(`runs per figure: ${runs}`);
  console.log(`ipmitool -C 3  vs engine:   median ${e3.toFixed(1)} ms`);
  console.log(`ipmitool -C 3  vs ipmi_sim: median ${s3.toFixed(1)} ms`);
  console.log(`ratio engine / ipmi_sim:    ${(e3 / s3).toFixed(3)}  (target <= 1.10)`);
  console.log(`ipmitool -C 17 vs engine:   median ${e17.toFixed(1)} ms`);
  console.log(`esxkit client connect+status+close (suite 17): median ${median(setups).toFixed(2)} ms`);
} finally {
  await engine.close();
  await sim.close();
}
