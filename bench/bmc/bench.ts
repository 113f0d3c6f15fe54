// On demand (not a test): virtual BMC figures for the README.
//   node_modules/.bin/bun bench/bmc/bench.ts [runs=50]
// Everything runs on 127.0.0.1 against the govmomi simulator (500 VMs); the BMCs run in a
// separate process (fleet.ts) so their resident memory can be read.
//  1. median of `runs` × `ipmitool -I lanplus -C 3 chassis power status` against esxkit
//     (vSphere backend) and, interleaved in the same run, against OpenIPMI's ipmi_sim: ratio;
//  2. vCenter HTTP requests per `power status`;
//  3. RSS with 1, 100, 500 BMCs, and the time from process start until all of them answer;
//  4. p50/p95 of `power status` with 50 concurrent ipmitool clients on 50 BMCs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { ADMIN, run, startIpmiSim } from "../../test/support/ipmi/peers.ts";
import { startVcsim, type Vcsim } from "../../test/support/vcsim.ts";

const runs = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), "esxkit-bench-bmc-"));
const fleetScript = resolve(import.meta.dir, "fleet.ts");

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const median = (xs: number[]) => quantile(xs, 0.5);

async function ipmitoolStatus(port: number): Promise<number> {
  const t0 = performance.now();
  const r = await run("ipmitool", ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(port), "-U", ADMIN.name, "-P", ADMIN.password, "chassis", "power", "status"], 30_000);
  const ms = performance.now() - t0;
  if (r.code !== 0 || !/Chassis Power is/.test(r.stdout)) throw new Error(`ipmitool against port ${port} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

interface Fleet {
  proc: Subprocess<"pipe", "pipe", "inherit">;
  ports: number[];
  startedAt: number;
  stats(): Promise<{ vcenterRequests: number; watchRequests: number }>;
  rssKb(): Promise<number>;
  stop(): Promise<void>;
}

async function startFleet(sim: Vcsim, vms: string[], count: number): Promise<Fleet> {
  const specFile = join(dir, `fleet-${count}.json`);
  writeFileSync(specFile, JSON.stringify({ url: sim.url, thumbprint: sim.thumbprintSha256, username: sim.username, password: sim.password, vms, count, backend: "vsphere" }));
  const startedAt = performance.now();
  const proc = Bun.spawn([process.execPath, fleetScript, specFile], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("fleet exited");
      buffered += decoder.decode(value, { stream: true });
    }
  };
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const { ports } = JSON.parse(await nextLine()) as { ports: number[] };
  clearTimeout(timer);
  return {
    proc,
    ports,
    startedAt,
    async stats() {
      proc.stdin.write("stats\n");
      proc.stdin.flush();
      return JSON.parse(await nextLine());
    },
    async rssKb() {
      const status = await Bun.file(`/proc/${proc.pid}/status`).text();
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    },
    async stop() {
      proc.stdin.end();
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}

/** Ask every BMC for its power state until all have answered with one; ms since process start. */
async function timeUntilAllAnswer(fleet: Fleet): Promise<number> {
  const pending = [...fleet.ports];
  const deadline = performance.now() + 60_000;
  const answerOnce = async (port: number) => {
    for (;;) {
      if (performance.now() > deadline) throw new Error(`BMC on port ${port} never answered`);
      try {
        const c = await IpmiClient.connect({ host: "127.0.0.1", port, username: ADMIN.name, password: ADMIN.password, retransmitMs: 200, connectTimeoutMs: 5000 });
        try {
          await c.chassisStatus({ timeoutMs: 2000 });
          return;
        } finally {
          await c.close().catch(() => undefined);
        }
      } catch {
        await Bun.sleep(20); // not synchronised with vCenter yet (C3h), or busy
      }
    }
  };
  const workers = Array.from({ length: 32 }, async () => {
    for (let port = pending.pop(); port !== undefined; port = pending.pop()) await answerOnce(port);
  });
  await Promise.all(workers);
  return performance.now() - fleet.startedAt;
}

const sim = await startVcsim({ args: ["-vm", "250"] });
const ipmiSim = await startIpmiSim();
try {
  const c = await VimClient.connect({ name: "bench", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
  const vms = (await listVms(c)).map((v) => v.name).sort();
  await c.close();
  console.log(`simulator: ${vms.length} VMs; runs per latency figure: ${runs}`);

  // 1 + 2: latency against one BMC and ipmi_sim, interleaved; vCenter requests meanwhile.
  const one = await startFleet(sim, vms, 1);
  await timeUntilAllAnswer(one);
  for (let i = 0; i < 5; i++) {
    await ipmitoolStatus(one.ports[0]!);
    await ipmitoolStatus(ipmiSim.port);
  }
  const before = await one.stats();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await ipmitoolStatus(one.ports[0]!));
    theirs.push(await ipmitoolStatus(ipmiSim.port));
  }
  const after = await one.stats();
  await one.stop();
  const total = after.vcenterRequests - before.vcenterRequests;
  const watch = after.watchRequests - before.watchRequests;
  console.log(`ipmitool -C 3 power status, esxkit:   median ${median(ours).toFixed(1)} ms`);
  console.log(`ipmitool -C 3 power status, ipmi_sim: median ${median(theirs).toFixed(1)} ms`);
  console.log(`ratio esxkit / ipmi_sim: ${(median(ours) / median(theirs)).toFixed(3)} (target <= 1.10)`);
  console.log(`vCenter HTTP requests during ${runs} power status: ${total} (of which the idle watch's long polls: ${watch}) = ${((total - watch) / runs).toFixed(3)} per status (target 0)`);

  // 3: memory and start-up time.
  for (const n of [1, 100, 500]) {
    const fleet = await startFleet(sim, vms, n);
    const allMs = await timeUntilAllAnswer(fleet);
    await Bun.sleep(1000);
    const rss = await fleet.rssKb();
    await fleet.stop();
    console.log(`${String(n).padStart(3)} BMCs: RSS ${(rss / 1024).toFixed(1)} MB; all answered power status ${allMs.toFixed(0)} ms after process start`);
  }

  // 4: 50 concurrent ipmitool clients, each on its own BMC.
  const fifty = await startFleet(sim, vms, 50);
  await timeUntilAllAnswer(fifty);
  const latencies: number[] = [];
  const perClient = Math.max(1, Math.round(runs / 5));
  await Promise.all(
    fifty.ports.map(async (port) => {
      for (let i = 0; i < perClient; i++) latencies.push(await ipmitoolStatus(port));
    }),
  );
  console.log(`50 concurrent ipmitool clients on 50 BMCs (${latencies.length} requests): p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p95 ${quantile(latencies, 0.95).toFixed(1)} ms`);
  // The same load without 50 process starts per round: one open session per client, so the
  // figure is the BMCs' own answer time (on this 2-core machine, shared with the clients).
  const inSession: number[] = [];
  const clients = await Promise.all(fifty.ports.map((port) => IpmiClient.connect({ host: "127.0.0.1", port, username: ADMIN.name, password: ADMIN.password, cipherSuites: [3] })));
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await client.chassisStatus();
        inSession.push(performance.now() - t0);
      }
    }),
  );
  await Promise.all(clients.map((client) => client.close()));
  await fifty.stop();
  console.log(`50 concurrent in-session clients (suite 3) on 50 BMCs (${inSession.length} requests): p50 ${quantile(inSession, 0.5).toFixed(2)} ms, p95 ${quantile(inSession, 0.95).toFixed(2)} ms`);
} finally {
  await ipmiSim.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
