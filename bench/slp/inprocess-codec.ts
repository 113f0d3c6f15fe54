// In-process SLP microbenchmarks (run on demand: `bun bench/slp/inprocess-codec.ts`); the daemon
// itself is measured by bench/slp/serve.ts. Each section below runs components in this process:
//  1. (throughput and latency: bench/slp/serve.ts, through the daemon, with a C load generator)
//  2. Amplification (reply bytes / request bytes) per request type, typical and smallest requests.
//  3. The 1-million-datagram decoder+handler fuzz run, with memory sampled every tenth.
//  4. The live fuzz run against the socket (reply cache on, as in the daemon), memory, liveness probe.
import { loadavg } from "node:os";
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
import { freePort, UdpProbe } from "../../test/support/slp/udp-client.ts";

const FUZZ_N = Number(process.env.BENCH_FUZZ ?? 1_000_000);
const LIVE_N = Number(process.env.BENCH_LIVE ?? 100_000);

console.log(`SLP in-process benchmark — bun ${Bun.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);

// ---- 2. amplification
// Per request type: what a typical UA sends, and the smallest request that gets the largest
// reply (one-letter language tag, the bare type "wbem"), against one entry (lsi-msm +
// VMwareInfrastructure) and against 16 entries sharing one responder.
const one: HandlerState = { entries: buildEntries(slpConfig()), isSelf: () => false, predicates: new PredicateCache() };
const sixteen: HandlerState = {
  ...one,
  // The first is the one-entry host (so the by-URL request finds it), then 15 more.
  entries: Array.from({ length: 16 }, (_, i) => buildEntries(slpConfig(i === 0 ? {} : { name: `e${i}`, host: `esx${String(i).padStart(2, "0")}.example.jp` }))).flat(),
};
const uni = { sourceAddress: "10.0.0.9", localAddress: "10.0.0.1", multicast: false, maxReplyBytes: UDP_MAX_REPLY };
const mc = { ...uni, multicast: true };
const SA = { flags: MCAST, type: "service:service-agent", scopes: "" };
const cases: Array<[string, string, Uint8Array, typeof uni]> = [
  ["SrvRqst", "service:wbem (as slptool)", srvRqst(), uni],
  ["SrvRqst", "smallest: wbem, lang \"e\"", srvRqst({ type: "wbem", lang: "e" }), uni],
  ["SrvRqst", "no match", srvRqst({ type: "service:x" }), uni],
  ["SrvRqst", "scope error", srvRqst({ scopes: "X" }), uni],
  ["AttrRqst", "by URL", attrRqst({ url: WBEM_URL }), uni],
  ["AttrRqst", "by type service:wbem", attrRqst({ url: "service:wbem" }), uni],
  ["AttrRqst", "smallest: wbem, lang \"e\"", attrRqst({ url: "wbem", lang: "e" }), uni],
  ["SrvTypeRqst", "all authorities", srvTypeRqst(), uni],
  ["SrvTypeRqst", "smallest: lang \"e\"", srvTypeRqst({ lang: "e" }), uni],
  ["SA discovery", "multicast, as slptool", srvRqst(SA), mc],
  ["SA discovery", "smallest: lang \"e\"", srvRqst({ ...SA, lang: "e" }), mc],
];
console.log("2. Amplification (reply bytes / request bytes; one reply per request, never more):");
console.log(`   ${"request".padEnd(44)} ${"1 entry".padStart(18)}   ${"16 entries, 1 port".padStart(20)}`);
const worstByType = new Map<string, { ratio: number; minRequest: number }>();
for (const [type, name, req, ctx] of cases) {
  const cols = [one, sixteen].map((st) => {
    const o = handleRequest(req, ctx, st);
    const out = o.kind === "reply" ? o.bytes.length : 0;
    const w = worstByType.get(type) ?? { ratio: 0, minRequest: Number.POSITIVE_INFINITY };
    worstByType.set(type, { ratio: Math.max(w.ratio, out / req.length), minRequest: o.kind === "reply" ? Math.min(w.minRequest, req.length) : w.minRequest });
    return `${String(out).padStart(4)} B ${(out / req.length).toFixed(1).padStart(5)}×`;
  });
  console.log(`   ${`${type}: ${name}`.padEnd(44)} ${String(req.length).padStart(3)} B → ${cols[0]}   ${cols[1]!.padStart(20)}`);
}
for (const [type, w] of worstByType) {
  console.log(`   ${type.padEnd(13)} worst measured ${w.ratio.toFixed(1).padStart(4)}×; bound ${UDP_MAX_REPLY} B / ${w.minRequest} B = ${(UDP_MAX_REPLY / w.minRequest).toFixed(0)}× (the smallest request above that gets a reply)`);
}
console.log("   Requests that fail, match nothing or arrive by multicast without a match get an error of ≤ 20 bytes or nothing;");
console.log("   the global reply_bytes_per_s cap (default 256 KiB/s) bounds what any spoofed-source flood reflects in total.\n");

// ---- 3. fuzz
const mb = (n: number) => (n / 1048576).toFixed(1);
Bun.gc(true);
const before = process.memoryUsage();
const rng = new Rng(0xb3c4d5e6);
const pool = seeds();
const fstate: HandlerState = { ...one, predicates: new PredicateCache() };
const samples: string[] = [];
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
  if ((i + 1) % (FUZZ_N / 10) === 0) {
    Bun.gc(true);
    const m = process.memoryUsage();
    samples.push(`${mb(m.heapUsed)}/${mb(m.rss)}`);
  }
}
const secs = (performance.now() - t0) / 1000;
Bun.gc(true);
const after = process.memoryUsage();
console.log(`3. Fuzz: ${FUZZ_N} mutated/truncated/random datagrams through decoder and handler in ${secs.toFixed(1)} s (${Math.round(FUZZ_N / secs)}/s)`);
console.log(`   decoded ${decoded}, refused ${refused} (all SlpDecodeError), handler replies ${replies}; no other exception`);
console.log(`   memory before: rss ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB; after: rss ${mb(after.rss)} MB, heap ${mb(after.heapUsed)} MB`);
console.log(`   heap/rss MB after each tenth (after a full GC): ${samples.join("  ")}`);

// ---- 4. live fuzz against the socket
const livePort = await freePort();
const liveResponder = new SlpResponder({ port: livePort, logger: silentLogger, multicast: false });
await liveResponder.start();
const liveSvc = createSlpService(slpConfig({ port: livePort, rate_per_source: 1e9, rate_burst: 1e9, reply_bytes_per_s: 1e12 }), { logger: silentLogger, responder: liveResponder });
await liveSvc.start();
const probe = await UdpProbe.open();
const liveRng = new Rng(0x1a2b3c4d);
const liveSamples: string[] = [];
Bun.gc(true);
const liveBefore = process.memoryUsage();
const l0 = performance.now();
for (let i = 0; i < LIVE_N; i++) {
  probe.send(mutate(liveRng, pool), livePort);
  if (i % 64 === 63) {
    await Bun.sleep(0);
    await probe.drain(0);
  }
  if ((i + 1) % (LIVE_N / 10) === 0) {
    Bun.gc(true);
    const m = process.memoryUsage();
    liveSamples.push(`${mb(m.heapUsed)}/${mb(m.rss)}`);
  }
}
await probe.drain(300);
const liveSecs = (performance.now() - l0) / 1000;
const st = liveSvc.status();
const alive = await probe.request(srvRqst({ xid: 0x1ee7 }), livePort, "127.0.0.1", 2000);
const aliveOk = alive !== undefined && message.decode(alive.bytes).xid === 0x1ee7;
console.log(`4. Live fuzz: ${LIVE_N} datagrams to the socket in ${liveSecs.toFixed(1)} s; ${st.requests} reached the handler: ${st.replies} replies, ${st.drops} drops; liveness probe ${aliveOk ? "answered" : "NOT answered"}`);
console.log(`   memory before: rss ${mb(liveBefore.rss)} MB, heap ${mb(liveBefore.heapUsed)} MB; heap/rss MB after each tenth: ${liveSamples.join("  ")}`);
probe.close();
await liveSvc.stop();
await liveResponder.stop();
