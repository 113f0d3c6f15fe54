// SLP responder benchmark (run on demand: `bun bench/slp/bench.ts`).
//  1. Unicast SrvRqst and AttrRqst on loopback: requests/s and p50/p99 latency, with a
//     pipelining client in its own process; a plain UDP echo server is the same-run baseline.
//  2. Amplification (reply bytes / request bytes) per request type.
//  3. The 1-million-datagram decoder+handler fuzz run, with memory before and after.
import { loadavg } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log/logger.ts";
import { buildEntries } from "../../src/slp/entries.ts";
import { handleRequest, type HandlerState, UDP_MAX_REPLY } from "../../src/slp/handler.ts";
import { PredicateCache } from "../../src/slp/predicate.ts";
import { SlpResponder } from "../../src/slp/responder.ts";
import { createSlpService } from "../../src/slp/service.ts";
import { SlpDecodeError } from "../../src/errors.ts";
import { message } from "../../src/slp/wire/index.ts";
import { slpConfig, WBEM_URL } from "../../test/support/slp/config.ts";
import { mutate, Rng, seeds } from "../../test/support/slp/fuzz.ts";
import { attrRqst, MCAST, srvRqst, srvTypeRqst } from "../../test/support/slp/requests.ts";
import { freePort } from "../../test/support/slp/udp-client.ts";

const DURATION_MS = Number(process.env.BENCH_MS ?? 5000);
// Requests in flight: a shallow and a deep pipeline (latency vs. throughput).
const WINDOWS = (process.env.BENCH_WINDOWS ?? "4,16").split(",").map(Number);
const FUZZ_N = Number(process.env.BENCH_FUZZ ?? 1_000_000);

interface ClientResult {
  kind: string;
  window: number;
  sent: number;
  received: number;
  rps: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

async function runClient(port: number, kind: string, window: number): Promise<ClientResult> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "client.ts"), String(port), kind, String(window), String(DURATION_MS)], { stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => p.kill(), DURATION_MS + 20_000);
  const out = await new Response(p.stdout).text();
  await p.exited;
  clearTimeout(timer);
  return JSON.parse(out) as ClientResult;
}

function line(r: ClientResult, label: string): string {
  return `${label.padEnd(22)} ${String(r.rps).padStart(7)} req/s   p50 ${String(r.p50us).padStart(5)} µs   p99 ${String(r.p99us).padStart(5)} µs   max ${String(r.maxus).padStart(6)} µs   (${r.received}/${r.sent} answered, window ${r.window})`;
}

console.log(`SLP responder benchmark — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}, ${DURATION_MS} ms per run\n`);

// ---- 1. throughput and latency
const echoPort = await freePort();
const echo = await Bun.udpSocket({
  hostname: "127.0.0.1",
  port: echoPort,
  socket: {
    data(s, data, port, address) {
      s.send(data, port, address);
    },
  },
});
const port = await freePort();
const responder = new SlpResponder({ port, logger: silentLogger, multicast: false, replyCacheMs: 0 });
await responder.start();
const svc = createSlpService(slpConfig({ port, rate_per_source: 1e9, rate_burst: 1e9, reply_bytes_per_s: 1e12 }), { logger: silentLogger, responder });
await svc.start();
console.log("1. Unicast on loopback (responder in this process, client in another; reply cache off so every request is handled):");
for (const w of WINDOWS) {
  const baseline = await runClient(echoPort, "echo", w);
  const srv = await runClient(port, "srv", w);
  const attr = await runClient(port, "attr", w);
  console.log(`   ${line(baseline, "UDP echo (baseline)")}`);
  console.log(`   ${line(srv, "SrvRqst → SrvRply")}   ${(srv.rps / baseline.rps).toFixed(2)}× echo`);
  console.log(`   ${line(attr, "AttrRqst → AttrRply")}   ${(attr.rps / baseline.rps).toFixed(2)}× echo`);
  console.log(`   target ≥ 40000 SrvRqst/s with p99 < 1000 µs at window ${w}: ${srv.rps >= 40_000 && srv.p99us < 1000 ? "met" : "NOT met"}\n`);
}
echo.close();
await svc.stop();
await responder.stop();

// ---- 2. amplification
const state: HandlerState = { entries: buildEntries(slpConfig()), isSelf: () => false, predicates: new PredicateCache() };
const uni = { sourceAddress: "10.0.0.9", localAddress: "10.0.0.1", multicast: false, maxReplyBytes: UDP_MAX_REPLY };
const mc = { ...uni, multicast: true };
const cases: Array<[string, Uint8Array, typeof uni]> = [
  ["SrvRqst service:wbem", srvRqst(), uni],
  ["SrvRqst, no match", srvRqst({ type: "service:x" }), uni],
  ["AttrRqst by URL", attrRqst({ url: WBEM_URL }), uni],
  ["AttrRqst by type", attrRqst({ url: "service:wbem" }), uni],
  ["AttrRqst by bare type \"wbem\"", attrRqst({ url: "wbem" }), uni],
  ["SrvTypeRqst", srvTypeRqst(), uni],
  ["SA discovery (multicast)", srvRqst({ flags: MCAST, type: "service:service-agent", scopes: "" }), mc],
  ["scope error (unicast)", srvRqst({ scopes: "X" }), uni],
];
console.log("2. Amplification (reply bytes / request bytes, one reply per request):");
let worst = 0;
for (const [name, req, ctx] of cases) {
  const o = handleRequest(req, ctx, state);
  const out = o.kind === "reply" ? o.bytes.length : 0;
  worst = Math.max(worst, out / req.length);
  console.log(`   ${name.padEnd(32)} ${String(req.length).padStart(4)} → ${String(out).padStart(4)} bytes   ${(out / req.length).toFixed(1).padStart(5)}×`);
}
const minRequest = 16 + 10 + 4; // header with a 2-byte language tag and the shortest possible body
console.log(`   worst measured ${worst.toFixed(1)}×; hard bound: ≤ ${UDP_MAX_REPLY} bytes per request of ≥ ${minRequest} bytes = ${(UDP_MAX_REPLY / minRequest).toFixed(0)}×,`);
console.log("   and the global reply_bytes_per_s cap (default 256 KiB/s) bounds what any flood reflects.\n");

// ---- 3. fuzz
Bun.gc(true);
const before = process.memoryUsage();
const rng = new Rng(0xb3c4d5e6);
const pool = seeds();
const fstate: HandlerState = { ...state, predicates: new PredicateCache() };
let decoded = 0;
let refused = 0;
let replies = 0;
const t0 = performance.now();
for (let i = 0; i < FUZZ_N; i++) {
  const b = mutate(rng, pool);
  try {
    message.decode(b);
    decoded++;
  } catch (err) {
    if (!(err instanceof SlpDecodeError)) throw new Error(`fuzz iteration ${i}: ${String(err)} for ${Buffer.from(b).toString("hex")}`);
    refused++;
  }
  const o = handleRequest(b, (i & 1) === 1 ? mc : uni, fstate);
  if (o.kind === "reply") replies++;
}
const secs = (performance.now() - t0) / 1000;
Bun.gc(true);
const after = process.memoryUsage();
const mb = (n: number) => (n / 1048576).toFixed(1);
console.log(`3. Fuzz: ${FUZZ_N} mutated/truncated/random datagrams through decoder and handler in ${secs.toFixed(1)} s (${Math.round(FUZZ_N / secs)}/s)`);
console.log(`   decoded ${decoded}, refused ${refused} (all SlpDecodeError), handler replies ${replies}; no other exception`);
console.log(`   memory before: rss ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB; after: rss ${mb(after.rss)} MB, heap ${mb(after.heapUsed)} MB`);
