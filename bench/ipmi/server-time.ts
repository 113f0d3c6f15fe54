// IPMI server time per request, esxkit against OpenIPMI's ipmi_sim, from a capture (run on demand):
//   node_modules/.bin/bun bench/ipmi/server-time.ts [rounds=5] [requests=300]
// `dist/esxkit serve` runs one [[bmc]] with the documented defaults against the govmomi
// simulator; ipmi_sim runs beside it (its own C implementation of the same commands; no
// chassis_control script, so it answers chassis status from memory as esxkit does). One RMCP+
// session per server, cipher suite 3 for both (ipmi_sim has no suite 17), one request in flight;
// tshark captures lo and the figure is the time from each request datagram to its reply
// datagram: the server's own time, not the client's. Rounds alternate the two servers.
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { startIpmiSim } from "../../test/support/ipmi/peers.ts";
import { startCapture } from "../../test/support/ipmi/tshark.ts";
import { startVcsim } from "../../test/support/vcsim.ts";
import { BMC_USER, bmcEnv, bmcSection, vcenterSection } from "../support/bmc-config.ts";
import { serverTimes } from "../support/capture.ts";
import { startServe, waitUntil } from "../support/serve.ts";
import { freeUdpPort, median, quantile } from "../support/stats.ts";

const rounds = Number(process.argv[2] ?? 5);
const requests = Number(process.argv[3] ?? 300);

async function measure(port: number): Promise<{ deviceId: number[]; chassis: number[] }> {
  const c = await IpmiClient.connect({ host: "127.0.0.1", port, username: BMC_USER.name, password: BMC_USER.password, cipherSuites: [3] });
  try {
    for (let i = 0; i < 50; i++) await c.getDeviceId(); // warm-up, not captured
    const cap = await startCapture(port);
    for (let i = 0; i < requests; i++) await c.getDeviceId();
    for (let i = 0; i < requests; i++) await c.chassisStatus();
    const gaps = serverTimes(await cap.stop(), port);
    if (gaps.length !== 2 * requests) throw new Error(`capture holds ${gaps.length} request/reply pairs, expected ${2 * requests}`);
    return { deviceId: gaps.slice(0, requests), chassis: gaps.slice(requests) };
  } finally {
    await c.close().catch(() => {});
  }
}

const sim = await startVcsim();
const ipmiSim = await startIpmiSim({ name: BMC_USER.name, password: BMC_USER.password, maxPrivilege: 4 }, { chassisControl: false });
const port = await freeUdpPort();
const served = await startServe(`${vcenterSection(sim)}${bmcSection({ name: "bench", vm: "DC0_H0_VM0", address: "127.0.0.1", port })}`, bmcEnv(sim));
try {
  await waitUntil("esxkit BMC answering power status", 30_000, async () => {
    try {
      const c = await IpmiClient.connect({ host: "127.0.0.1", port, username: BMC_USER.name, password: BMC_USER.password, cipherSuites: [3], connectTimeoutMs: 2000 });
      await c.chassisStatus({ timeoutMs: 1000 });
      await c.close();
      return true;
    } catch {
      return false;
    }
  });
  const rows: Record<string, number[][]> = { "esxkit Get Device ID": [], "ipmi_sim Get Device ID": [], "esxkit Get Chassis Status": [], "ipmi_sim Get Chassis Status": [] };
  console.log(`IPMI server time from a capture on lo — ${rounds} rounds × ${requests} requests per command, suite 3, one request in flight`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["esxkit", "ipmi_sim"] : ["ipmi_sim", "esxkit"];
    for (const who of order) {
      const m = await measure(who === "esxkit" ? port : ipmiSim.port);
      rows[`${who} Get Device ID`]!.push(m.deviceId);
      rows[`${who} Get Chassis Status`]!.push(m.chassis);
      console.log(`  round ${r + 1} ${who.padEnd(8)} Get Device ID median ${median(m.deviceId)} µs · Get Chassis Status median ${median(m.chassis)} µs`);
    }
  }
  console.log("\nmedian over rounds of each round's median (p90 likewise); ratio esxkit / ipmi_sim per round, then the median:");
  for (const cmd of ["Get Device ID", "Get Chassis Status"]) {
    const ours = rows[`esxkit ${cmd}`]!;
    const theirs = rows[`ipmi_sim ${cmd}`]!;
    const ratio = median(ours.map((g, i) => median(g) / median(theirs[i]!)));
    console.log(
      `  ${cmd.padEnd(19)} esxkit ${median(ours.map(median))} µs (p90 ${median(ours.map((g) => quantile(g, 0.9)))})  ipmi_sim ${median(theirs.map(median))} µs (p90 ${median(theirs.map((g) => quantile(g, 0.9)))})  ratio ${ratio.toFixed(2)} (target ≤ 1.00)`,
    );
  }
} finally {
  await served.stop();
  await ipmiSim.close();
  await sim.stop();
}
