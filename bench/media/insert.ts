// InsertMedia of a large image (default 1 GiB, generated on the fly, never stored) from a local
// HTTP server (Bun.serve on 127.0.0.1) into the simulator's datastore, through the shipped
// binary: `dist/esxkit vm media insert VM URL`. Baseline in the same run: a plain
// `curl URL | curl -k -T - https://…/folder/…` pipe with a session cookie (what a field engineer
// would script). Reports MB/s of both and their ratio (goal ≥ 0.8), the peak RSS growth of the
// insert over the same binary's `vm media status` (goal < 64 MB), and that a second VM inserting
// the same URL transfers 0 bytes.
// Run on demand (after `npm run build`):  bun bench/media/insert.ts [MiB] [rounds]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRequest } from "../../src/vsphere/soap/envelope.ts";
import { str } from "../../src/vsphere/convert.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { startVcsim } from "../../test/support/vcsim.ts";
import { connectSim } from "../../test/support/vsphere/sim.ts";

const mib = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 3);
const size = mib * 1024 * 1024;
const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");

// ---------------------------------------------------------------- image server
const block = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
let served = 0;
const images = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  fetch(req) {
    const name = new URL(req.url).pathname;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= size) return ctl.close();
        const n = Math.min(block.length, size - sent);
        ctl.enqueue(n === block.length ? block : block.subarray(0, n));
        sent += n;
        served += n;
      },
    });
    return new Response(body, { headers: { etag: `"${name}-${size}"`, "content-type": "application/octet-stream" } });
  },
});
const base = `http://127.0.0.1:${images.port}`;

// ---------------------------------------------------------------- simulator + config
const sim = await startVcsim({ args: ["-vm", String(rounds + 1), "-host", "1", "-standalone-host", "0"] });
const client = await connectSim(sim);
const vms = (await listVms(client)).map((v) => v.name).sort();
const stores = await retrieveProperties(client, { type: "Datastore", paths: ["name", "summary.url"] });
const dsDir = str(stores.find((d) => d.props.name === "LocalDS_0")?.props["summary.url"]) ?? "";
await client.close();
const dir = mkdtempSync(join(tmpdir(), "esxkit-bench-media-"));
const config = join(dir, "config.toml");
writeFileSync(config, `[vcenter.lab]\nurl = "${sim.url}"\nusername = "user"\npassword = "env:BENCH_VC_PW"\nthumbprint = "${sim.thumbprintSha256}"\n`, { mode: 0o600 });
const env = { PATH: process.env.PATH ?? "", BENCH_VC_PW: sim.password, NO_COLOR: "1" };

async function sessionCookie(): Promise<string> {
  const res = await fetch(sim.url, {
    method: "POST",
    headers: { "content-type": "text/xml; charset=utf-8", soapaction: "urn:vim25/6.5" },
    body: buildRequest("Login", { type: "SessionManager", value: "SessionManager" }, [["userName", sim.username], ["password", sim.password]]),
    tls: { rejectUnauthorized: false },
  } as RequestInit);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";", 1)[0] ?? "";
  if (!res.ok || !cookie) throw new Error(`login for the baseline failed: HTTP ${res.status}`);
  return cookie;
}

/** Peak RSS (VmHWM, kB) of a process, polled until it exits. */
async function peakRssKb(pid: number, exited: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(await Bun.file(`/proc/${pid}/status`).text());
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      break;
    }
    await Bun.sleep(50);
  }
  return peak;
}

async function runEsxkit(argv: string[]): Promise<{ seconds: number; peakKb: number; out: string }> {
  const t0 = performance.now();
  const p = Bun.spawn([binary, ...argv, "-c", config], { env, stdout: "pipe", stderr: "pipe" });
  const [peakKb, out, err, code] = await Promise.all([peakRssKb(p.pid, p.exited), new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`esxkit ${argv.join(" ")}: exit ${code}: ${err}`);
  return { seconds: (performance.now() - t0) / 1000, peakKb, out };
}

async function runBaseline(i: number, cookie: string): Promise<number> {
  const origin = new URL(sim.url).origin;
  const dest = `${origin}/folder/bench-baseline/${i}.iso?dcPath=DC0&dsName=LocalDS_0`;
  const t0 = performance.now();
  const p = Bun.spawn(["bash", "-o", "pipefail", "-c", `curl -sS --fail "$SRC" | curl -sS --fail -k -b "$COOKIE" -H 'Content-Type: application/octet-stream' -T - "$DEST" -o /dev/null`], {
    env: { ...env, SRC: `${base}/baseline-${i}.iso`, DEST: dest, COOKIE: cookie },
    stderr: "pipe",
  });
  const code = await p.exited;
  if (code !== 0) throw new Error(`baseline pipe failed: ${await new Response(p.stderr).text()}`);
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const folder = async () => (await sim.control({ cmd: "folder" })).folder as { putBytes: number };

try {
  const cookie = await sessionCookie();
  const idle = await runEsxkit(["vm", "media", "status", vms[0] as string]);
  const ours: number[] = [];
  const transferSecs: number[] = [];
  const theirs: number[] = [];
  const peaks: number[] = [];
  // Both write the image to the same disk: each run starts with the previous file deleted and
  // the page cache written back, and the order alternates between rounds.
  const settle = () => Bun.spawnSync(["sync"]);
  const baseline = async (i: number) => {
    theirs.push(await runBaseline(i, cookie));
    rmSync(join(dsDir, "bench-baseline"), { recursive: true, force: true });
    settle();
  };
  const esxkitRun = async (i: number) => {
    const r = await runEsxkit(["vm", "media", "insert", vms[i] as string, `${base}/image-${i}.iso`, "--json"]);
    const t = JSON.parse(r.out).transfer as { bytes: number; startedAt: number; finishedAt: number };
    if (t.bytes !== size) throw new Error(`esxkit transferred ${t.bytes} of ${size} bytes`);
    ours.push(r.seconds);
    transferSecs.push((t.finishedAt - t.startedAt) / 1000);
    peaks.push(r.peakKb);
    if (i < rounds - 1) await runEsxkit(["vm", "media", "eject", vms[i] as string]);
    settle();
  };
  settle();
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      await baseline(i);
      await esxkitRun(i);
    } else {
      await esxkitRun(i);
      await baseline(i);
    }
  }
  // The same URL into another VM: nothing moves.
  const last = `${base}/image-${rounds - 1}.iso`;
  const putBefore = (await folder()).putBytes;
  const servedBefore = served;
  const again = await runEsxkit(["vm", "media", "insert", vms[rounds] as string, last, "--json"]);
  const reused = JSON.parse(again.out).transfer as { bytes: number; reused?: boolean };
  const putAfter = (await folder()).putBytes;

  const mbps = (s: number) => size / 1e6 / s;
  const oursMed = median(ours);
  const theirsMed = median(theirs);
  console.log(`InsertMedia of ${mib} MiB, loopback HTTP source → simulator /folder over HTTPS, median of ${rounds}:`);
  console.log(`  esxkit vm media insert (whole command): ${mbps(oursMed).toFixed(1)} MB/s  (${oursMed.toFixed(2)} s; the transfer alone ${mbps(median(transferSecs)).toFixed(1)} MB/s)`);
  console.log(`  baseline curl | curl -T - pipe:          ${mbps(theirsMed).toFixed(1)} MB/s  (${theirsMed.toFixed(2)} s)`);
  console.log(`  ratio esxkit / baseline:                 ${(theirsMed / oursMed).toFixed(2)}  (goal >= 0.8)`);
  console.log(`  peak RSS: insert ${(median(peaks) / 1024).toFixed(1)} MB, status ${(idle.peakKb / 1024).toFixed(1)} MB: growth ${((median(peaks) - idle.peakKb) / 1024).toFixed(1)} MB  (goal < 64 MB)`);
  console.log(`  same URL into a second VM: ${reused.bytes} bytes transferred (reused: ${reused.reused === true}), ${putAfter - putBefore} bytes PUT, ${served - servedBefore} bytes read from the source (headers only)`);
} finally {
  images.stop(true);
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
