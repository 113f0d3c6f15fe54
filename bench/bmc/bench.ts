// Virtual BMCs through the shipped daemon (run on demand, not a test):
//   node_modules/.bin/bun bench/bmc/bench.ts [runs=30] [rows=1,2,3]
// `dist/esxkit serve` with [[bmc]] entries as a user writes them (documented defaults unless a
// row says otherwise) against the govmomi simulator (500 VMs), everything on loopback:
//  1. median `ipmitool -I lanplus -C 3 chassis power status`, esxkit and (interleaved) OpenIPMI's
//     ipmi_sim: ratio; and the vCenter requests per `power status`, read from esxkit's /metrics;
//  2. resident memory with 1, 500 and 5,000 BMCs in one process, and the time from spawning it
//     until every BMC answers an RMCP presence ping and a sample of them a full-session
//     `power status` with a real power state;
//  3. 50 concurrent sessions on one BMC (max_sessions = 64): server time per request from a
//     capture, against one session alone on the same BMC in the same run.
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { PRESENCE_PING, run, startIpmiSim } from "../../test/support/ipmi/peers.ts";
import { startCapture } from "../../test/support/ipmi/tshark.ts";
import { startVcsim } from "../../test/support/vcsim.ts";
import { BMC_USER, bmcEnv, bmcSection, vcenterSection } from "../support/bmc-config.ts";
import { serverTimes } from "../support/capture.ts";
import { startServe, waitUntil } from "../support/serve.ts";
import { freeUdpPort, median, quantile } from "../support/stats.ts";

const runs = Number(process.argv[2] ?? 30);
/** Which of the rows below to run, e.g. "2" for memory and start time only. */
const rows = new Set((process.argv[3] ?? "1,2,3").split(",").map(Number));
const sim = await startVcsim({ args: ["-vm", "250"] });
// vcsim's model names: 250 VMs on the standalone host, 250 in the cluster's pool.
const VMS = Array.from({ length: 500 }, (_, i) => (i < 250 ? `DC0_H0_VM${i}` : `DC0_C0_RP0_VM${i - 250}`));
const env = bmcEnv(sim);

async function ipmitoolStatus(port: number, address = "127.0.0.1"): Promise<number> {
  const t0 = performance.now();
  const r = await run("ipmitool", ["-I", "lanplus", "-C", "3", "-H", address, "-p", String(port), "-U", BMC_USER.name, "-P", BMC_USER.password, "chassis", "power", "status"], 30_000);
  const ms = performance.now() - t0;
  if (r.code !== 0 || !/Chassis Power is/.test(r.stdout)) throw new Error(`ipmitool against ${address}:${port} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

async function powerStatus(address: string, port: number): Promise<boolean> {
  try {
    const c = await IpmiClient.connect({ host: address, port, username: BMC_USER.name, password: BMC_USER.password, cipherSuites: [3], retransmitMs: 200, connectTimeoutMs: 3000 });
    try {
      await c.chassisStatus({ timeoutMs: 2000 }); // C3h (not synchronised with vCenter yet) throws
      return true;
    } finally {
      await c.close().catch(() => {});
    }
  } catch {
    return false;
  }
}

/** Pings every address:port until each has answered; ms since `since`. */
async function allPong(targets: { address: string; port: number }[], since: number, deadlineMs: number): Promise<number> {
  const waiting = new Set(targets.map((t) => `${t.address}:${t.port}`));
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_s, _d, port, address) {
        waiting.delete(`${address}:${port}`);
      },
      error() {},
    },
  });
  const deadline = performance.now() + deadlineMs;
  try {
    while (waiting.size > 0) {
      if (performance.now() > deadline) throw new Error(`${waiting.size} BMCs never answered a ping`);
      // The first 512 not yet answered, every 20 ms: enough to see each BMC as soon as it is up,
      // without a flood of pings (most to ports not bound yet) slowing the start being measured.
      let sent = 0;
      for (const k of waiting) {
        if (sent++ === 512) break;
        const i = k.lastIndexOf(":");
        try {
          sock.send(PRESENCE_PING, Number(k.slice(i + 1)), k.slice(0, i));
        } catch {
          // ICMP port unreachable from an earlier ping (not bound yet) surfaces here
        }
      }
      await Bun.sleep(20);
    }
    return performance.now() - since;
  } finally {
    sock.close();
  }
}

async function vcenterRequests(metricsPort: number): Promise<{ total: number; watch: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let total = 0;
  let watch = 0;
  for (const m of text.matchAll(/^esxkit_vcenter_request_seconds_count\{([^}]*)\} (\d+)/gm)) {
    total += Number(m[2]);
    if (/WaitForUpdatesEx/.test(m[1]!)) watch += Number(m[2]);
  }
  return { total, watch };
}

try {
  // ---- 1. ipmitool latency and vCenter requests
  if (rows.has(1)) {
    const ipmiSim = await startIpmiSim({ name: BMC_USER.name, password: BMC_USER.password, maxPrivilege: 4 }, { chassisControl: false });
    const port = await freeUdpPort();
    const metricsPort = await freeUdpPort(); // a free number; TCP on it is free in practice
    const served = await startServe(`${vcenterSection(sim)}${bmcSection({ name: "bench", vm: VMS[0]!, address: "127.0.0.1", port })}`, env, `metrics_listen = "127.0.0.1:${metricsPort}"`);
    try {
      await waitUntil("BMC answering power status", 30_000, () => powerStatus("127.0.0.1", port));
      for (let i = 0; i < 5; i++) await Promise.all([ipmitoolStatus(port), ipmitoolStatus(ipmiSim.port)].map((p) => p.catch(() => 0)));
      const before = await vcenterRequests(metricsPort);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await ipmitoolStatus(port));
        theirs.push(await ipmitoolStatus(ipmiSim.port));
      }
      const after = await vcenterRequests(metricsPort);
      const ratios = ours.map((o, i) => o / theirs[i]!);
      console.log(`1. ipmitool -C 3 chassis power status, ${runs} runs interleaved (config: 1 [[bmc]], defaults, + metrics_listen):`);
      console.log(`   esxkit median ${median(ours).toFixed(1)} ms · ipmi_sim median ${median(theirs).toFixed(1)} ms · ratio ${(median(ours) / median(theirs)).toFixed(2)} (median of pairwise ratios ${median(ratios).toFixed(2)}; target ≤ 1.10)`);
      console.log(`   vCenter requests meanwhile: ${after.total - before.total} (long polls of the idle watch: ${after.watch - before.watch}) → ${((after.total - before.total - (after.watch - before.watch)) / runs).toFixed(2)} per status (target 0)`);
    } finally {
      await served.stop();
      await ipmiSim.close();
    }
  }

  // ---- 2. fleets: memory and time until all answer. Each BMC has its own loopback address
  //         (127.1.x.y), all on one port, as BMCs on a management network would.
  if (rows.has(2)) console.log("2. N BMCs in one esxkit serve (config: N [[bmc]] entries, 500 VMs, defaults):");
  for (const n of rows.has(2) ? [1, 500, 5000] : []) {
    const port = await freeUdpPort();
    const targets = Array.from({ length: n }, (_, i) => ({ address: `127.1.${i >> 8}.${i & 255}`, port }));
    const body = vcenterSection(sim) + targets.map((t, i) => bmcSection({ name: `bmc-${i}`, vm: VMS[i % VMS.length]!, address: t.address, port })).join("");
    const served = await startServe(body, env);
    try {
      const pingMs = await allPong(targets, served.startedAt, 60_000).catch((err) => {
        throw new Error(`${(err as Error).message}; esxkit log: ${served.log()}`);
      });
      const sample = [...new Set([0, n - 1, ...Array.from({ length: Math.min(n, 48) }, (_, k) => Math.floor((k * n) / 48))])].map((i) => targets[i]!);
      const pending = new Set(sample);
      while (pending.size > 0) {
        if (performance.now() - served.startedAt > 120_000) throw new Error(`${pending.size} sampled BMCs never answered power status`);
        await Promise.all([...pending].map(async (t) => (await powerStatus(t.address, t.port)) && pending.delete(t)));
      }
      const statusMs = performance.now() - served.startedAt;
      await Bun.sleep(1000);
      const rss = served.rssKb();
      console.log(`   ${String(n).padStart(5)} BMCs: RSS ${(rss / 1024).toFixed(1)} MB (target < 250 MB at 5,000); all answered a ping ${pingMs.toFixed(0)} ms after spawn (target ≤ 2,000 ms); ${sample.length} sampled answered power status by ${statusMs.toFixed(0)} ms`);
    } finally {
      await served.stop();
    }
  }

  // ---- 3. 50 concurrent sessions on one BMC
  if (rows.has(3)) {
    const port = await freeUdpPort();
    const served = await startServe(`${vcenterSection(sim)}${bmcSection({ name: "bench", vm: VMS[0]!, address: "127.0.0.1", port, extra: "max_sessions = 64\nlogins_per_minute_per_source = 600\n" })}`, env);
    try {
      await waitUntil("BMC answering power status", 30_000, () => powerStatus("127.0.0.1", port));
      const connect = () => IpmiClient.connect({ host: "127.0.0.1", port, username: BMC_USER.name, password: BMC_USER.password, cipherSuites: [3] });
      const measure = async (clients: IpmiClient[], perClient: number) => {
        const client: number[] = [];
        const cap = await startCapture(port);
        await Promise.all(
          clients.map(async (c) => {
            for (let i = 0; i < perClient; i++) {
              const t0 = performance.now();
              await c.chassisStatus();
              client.push((performance.now() - t0) * 1000);
            }
          }),
        );
        return { server: serverTimes(await cap.stop(), port), client };
      };
      const alone = [await connect()];
      for (let i = 0; i < 20; i++) await alone[0]!.chassisStatus();
      const one = await measure(alone, 50 * 10);
      const fifty = [alone[0]!, ...(await Promise.all(Array.from({ length: 49 }, connect)))];
      const many = await measure(fifty, 10);
      await Promise.all(fifty.map((c) => c.close().catch(() => {})));
      const f = (xs: number[]) => `p50 ${(quantile(xs, 0.5) / 1000).toFixed(2)} ms, p99 ${(quantile(xs, 0.99) / 1000).toFixed(2)} ms`;
      console.log("3. Get Chassis Status on one BMC (config: 1 [[bmc]], max_sessions = 64, logins_per_minute_per_source = 600: 50 logins from one host at once, otherwise defaults):");
      console.log(`   1 session, ${one.server.length} requests: server time ${f(one.server)}; at the client ${f(one.client)}`);
      console.log(`   50 concurrent sessions, ${many.server.length} requests: server time ${f(many.server)} (target p99 ≤ 5 ms); at the client ${f(many.client)}`);
    } finally {
      await served.stop();
    }
  }
} finally {
  await sim.stop();
}
