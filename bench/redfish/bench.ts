// GET ComputerSystem against the shipped binary with 1,000 systems on one Redfish listener,
// from outside, with a trivial Bun.serve HTTPS JSON endpoint (same certificate, same load
// generator) as the same-run baseline. Reports req/s and p99 of both and their ratio, the
// daemon's RSS with 1,000 systems, and the vCenter requests the GET load caused (the watch's
// WaitForUpdatesEx excluded): PowerState must cost none.
// Run on demand:  npm run build && bun bench/redfish/bench.ts [systems=1000] [seconds=10] [concurrency=16]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listVms } from "../../src/vsphere/search.ts";
import { connectSim } from "../../test/support/vsphere/sim.ts";
import { startVcsim } from "../../test/support/vcsim.ts";

const n = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 10);
const concurrency = Number(process.argv[4] ?? 16);
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "esxkit-rf-bench-"));
const PASSWORD = "bench-Secret-1";
const tls = { rejectUnauthorized: false };
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}` };

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

async function load(urls: string[]): Promise<{ rps: number; p99: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        const t0 = performance.now();
        const r = await fetch(urls[i % urls.length] as string, { headers: auth, tls } as RequestInit);
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
        lat.push(performance.now() - t0);
        i += concurrency;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { rps: lat.length / seconds, p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN, errors };
}

async function vcenterRequests(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("esxkit_vcenter_request_seconds_count") || line.includes("WaitForUpdatesEx")) continue;
    sum += Number(line.split(" ").pop());
  }
  return sum;
}

const sim = await startVcsim({ mode: "esx", args: ["-vm", String(n)] });
const client = await connectSim(sim);
const vms = (await listVms(client)).map((v) => v.name).sort().slice(0, n);
await client.close?.();
const port = freePort();
const metricsPort = freePort();
const baselinePort = freePort();
writeFileSync(
  join(dir, "config.toml"),
  `[daemon]
state_dir = "${join(dir, "state")}"
control_socket = "${join(dir, "control.sock")}"
metrics_listen = "127.0.0.1:${metricsPort}"
log_level = "warn"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:VC"
thumbprint = "${sim.thumbprintSha256}"

[redfish]
listen = "127.0.0.1:${port}"
username = "admin"
password = "env:RF"
${vms.map((vm) => `\n[[bmc]]\nvm = "${vm}"\nipmi = false\n`).join("")}`,
);
const esxkit = Bun.spawn([join(root, "dist/esxkit"), "serve", "-c", join(dir, "config.toml")], { env: { PATH: process.env.PATH ?? "", RF: PASSWORD, VC: sim.password }, stdout: "ignore", stderr: "inherit" });
try {
  const base = `https://127.0.0.1:${port}`;
  let ids: string[] = [];
  for (let i = 0; i < 600 && ids.length < vms.length; i++) {
    await Bun.sleep(200);
    try {
      const r = (await (await fetch(`${base}/redfish/v1/Systems`, { headers: auth, tls } as RequestInit)).json()) as { Members: Array<{ "@odata.id": string }> };
      ids = r.Members.map((m) => m["@odata.id"]).filter((x) => /[0-9a-f-]{36}$/.test(x));
    } catch {}
  }
  const urls = ids.map((p) => `${base}${p}`);
  console.log(`systems: ${urls.length} of ${vms.length}; concurrency ${concurrency}, ${seconds} s per run`);
  // Warm-up: every system's hardware read once (then cached), JIT.
  for (let i = 0; i < urls.length; i += 50) await Promise.all(urls.slice(i, i + 50).map((u) => fetch(u, { headers: auth, tls } as RequestInit).then((r) => r.arrayBuffer())));
  const rssMb = rss(esxkit.pid);
  const certPath = join(dir, "state/redfish.crt");
  const baseline = Bun.spawn(
    [process.execPath, "-e", `const body = JSON.stringify({ "@odata.id": "/x", PowerState: "On", Boot: { BootSourceOverrideTarget: "None" } }); Bun.serve({ hostname: "127.0.0.1", port: ${baselinePort}, tls: { cert: Bun.file(${JSON.stringify(certPath)}), key: Bun.file(${JSON.stringify(join(dir, "state/redfish.key"))}) }, fetch: () => new Response(body, { headers: { "content-type": "application/json" } }) });`],
    { stdout: "ignore", stderr: "inherit" },
  );
  await Bun.sleep(500);
  const baseUrls = [`https://127.0.0.1:${baselinePort}/x`];
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const results: Record<string, Array<{ rps: number; p99: number; errors: number }>> = { esxkit: [], baseline: [] };
  let vcDuringLoad = 0;
  // Alternate the order so neither always runs on a warmer machine.
  for (let round = 0; round < 2; round++) {
    for (const which of round % 2 === 0 ? ["esxkit", "baseline"] : ["baseline", "esxkit"]) {
      if (which === "esxkit") {
        const before = await vcenterRequests(metricsUrl);
        results.esxkit?.push(await load(urls));
        vcDuringLoad += (await vcenterRequests(metricsUrl)) - before;
      } else {
        results.baseline?.push(await load(baseUrls));
      }
    }
  }
  baseline.kill();
  const best = (xs: Array<{ rps: number; p99: number; errors: number }>) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const e = best(results.esxkit ?? []);
  const b = best(results.baseline ?? []);
  console.log(`GET System (esxkit, ${urls.length} systems): ${e.rps.toFixed(0)} req/s, p99 ${e.p99.toFixed(1)} ms, errors ${e.errors}`);
  console.log(`baseline (trivial Bun.serve HTTPS JSON):      ${b.rps.toFixed(0)} req/s, p99 ${b.p99.toFixed(1)} ms`);
  console.log(`ratio esxkit/baseline: ${(e.rps / b.rps).toFixed(2)} (req/s), ${(e.p99 / b.p99).toFixed(2)} (p99)`);
  console.log(`RSS of esxkit serve with ${urls.length} systems: ${rssMb.toFixed(0)} MB (after warm-up), ${rss(esxkit.pid).toFixed(0)} MB (after the runs)`);
  console.log(`vCenter requests during the GET load (watch excluded): ${vcDuringLoad}`);
} finally {
  esxkit.kill("SIGTERM");
  await esxkit.exited;
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
