// A tight pipelining SLP client for the benchmark (runs as its own process, on the other
// core). Keeps `window` requests in flight, each with its own XID, and records the latency
// of every reply. argv: port kind(srv|attr|echo) window durationMs
// Prints one JSON line: {sent, received, seconds, rps, p50us, p99us, maxus}.
import { attrRqst, srvRqst } from "../../test/support/slp/requests.ts";

const [portArg, kind = "srv", windowArg = "32", durArg = "3000"] = process.argv.slice(2);
const port = Number(portArg);
const windowSize = Number(windowArg);
const durationMs = Number(durArg);
const template = Buffer.from(kind === "attr" ? attrRqst({ url: "service:wbem:https://esxi-main.example.jp:5989" }) : srvRqst());

const sentAt = new Float64Array(65536);
const latencies = new Float64Array(5_000_000);
let nLat = 0;
let sent = 0;
let received = 0;
let xid = 1;
let measuring = false;
let running = true;

let sock: Bun.udp.Socket<"buffer">;
function sendOne(): void {
  xid = (xid + 1) & 0xffff;
  template[10] = xid >> 8;
  template[11] = xid & 0xff;
  sentAt[xid] = performance.now();
  sock.send(template, port, "127.0.0.1");
  if (measuring) sent++;
}

sock = await Bun.udpSocket({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(_s, data) {
      const x = (data[10]! << 8) | data[11]!;
      const t = sentAt[x]!;
      if (t > 0 && measuring) {
        latencies[nLat++] = (performance.now() - t) * 1000;
        received++;
      }
      sentAt[x] = 0;
      if (running) sendOne();
    },
  },
});

// Lost datagrams shrink the window; top it back up.
const refill = setInterval(() => {
  const now = performance.now();
  let inflight = 0;
  for (let i = 0; i < 65536; i++) {
    const t = sentAt[i]!;
    if (t > 0) {
      if (now - t > 200) sentAt[i] = 0;
      else inflight++;
    }
  }
  for (let i = inflight; i < windowSize && running; i++) sendOne();
}, 100);

for (let i = 0; i < windowSize; i++) sendOne();
await Bun.sleep(500); // warm-up
measuring = true;
const t0 = performance.now();
await Bun.sleep(durationMs);
measuring = false;
const seconds = (performance.now() - t0) / 1000;
running = false;
clearInterval(refill);
await Bun.sleep(100);
sock.close();
const lat = latencies.subarray(0, nLat).sort();
const pct = (p: number) => (nLat === 0 ? 0 : lat[Math.min(nLat - 1, Math.floor((p / 100) * nLat))]!);
process.stdout.write(
  `${JSON.stringify({ kind, window: windowSize, sent, received, seconds, rps: Math.round(received / seconds), p50us: Math.round(pct(50)), p99us: Math.round(pct(99)), maxus: Math.round(lat[nLat - 1] ?? 0) })}\n`,
);
