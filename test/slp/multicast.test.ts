// Multicast on a real wire: the responder in one network namespace, user agents in another,
// joined by a veth pair (the test creates both; nothing leaves them). tshark captures the
// veth so the bytes judged are the bytes that travelled.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { SlpConfig } from "../../src/config/types.ts";
import { SLP_MULTICAST_GROUP } from "../../src/slp/net.ts";
import { toHex } from "../../src/slp/wire/index.ts";
import { createNetnsPair, type NetnsPair } from "../support/slp/netns.ts";
import { CHECKLIST, decode, MCAST, srvRqst } from "../support/slp/requests.ts";

const ROOT = join(import.meta.dir, "../..");
const BUN = process.execPath;
const HOST = "esxi-main.example.jp";
const URL = `service:wbem:https://${HOST}:5989`;

let net: NetnsPair;
let responder: Subprocess<"pipe", "pipe", "pipe">;
let capture: Subprocess<"ignore", "ignore", "pipe"> | undefined;
const dir = mkdtempSync(join(tmpdir(), "esxkit-slp-mc-"));
const pcap = join(dir, "veth.pcap");

async function readLine(stream: ReadableStream<Uint8Array>, want: RegExp, ms: number): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const r = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
      if (!r || r.done) break;
      buf += dec.decode(r.value);
      const line = buf.split("\n").find((l) => want.test(l));
      if (line) return line;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no line matching ${want} within ${ms} ms; got: ${buf.slice(0, 500)}`);
}

async function inUa(args: string[], ms = 20_000): Promise<{ out: string; err: string; code: number }> {
  const p = Bun.spawn(["ip", "netns", "exec", net.ua, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), ms);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { out, err, code };
}

async function probe(steps: Array<{ bytes: Uint8Array; to?: string; waitMs?: number }>) {
  const spec = {
    bind: net.uaAddr,
    multicastIf: net.uaAddr,
    steps: steps.map((s) => ({ hex: toHex(s.bytes), to: s.to ?? SLP_MULTICAST_GROUP, port: 427, waitMs: s.waitMs ?? 400 })),
  };
  const r = await inUa([BUN, join(ROOT, "test/support/slp/probe-main.ts"), JSON.stringify(spec)]);
  if (r.code !== 0) throw new Error(`probe failed: ${r.err}`);
  return JSON.parse(r.out) as Array<{ replies: Array<{ hex: string; address: string; port: number }> }>;
}

beforeAll(async () => {
  net = createNetnsPair("mc");
  capture = Bun.spawn(["ip", "netns", "exec", net.sa, "tshark", "-n", "-i", net.saIf, "-w", pcap, "-f", "port 427"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await readLine(capture.stderr, /Capturing on/, 15_000);
  const cfg: SlpConfig = {
    name: "esx1",
    host: HOST,
    urls: [],
    lifetime: 10800,
    profile: "lsi-msm",
    attributes: {},
    vmware_infrastructure: true,
    interfaces: [net.saAddr],
    scopes: ["DEFAULT"],
    port: 427,
    tcp: true,
    allow: [],
    rate_per_source: 100_000,
    rate_burst: 100_000,
  };
  responder = Bun.spawn(["ip", "netns", "exec", net.sa, BUN, join(ROOT, "test/support/slp/responder-main.ts"), JSON.stringify(cfg)], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  await readLine(responder.stdout, /^ready$/, 15_000);
}, 40_000);

afterAll(async () => {
  responder?.kill("SIGTERM");
  await Promise.race([responder?.exited, Bun.sleep(3000)]);
  responder?.kill("SIGKILL");
  capture?.kill("SIGTERM");
  await Promise.race([capture?.exited, Bun.sleep(3000)]);
  capture?.kill("SIGKILL");
  net?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe("multicast discovery across a veth pair", () => {
  test("esxkit slp find (multicast) sees the service, answered from the joined interface's address", async () => {
    const r = await inUa([BUN, join(ROOT, "test/support/slp/cli-main.ts"), "find", "--interface", net.uaAddr, "--timeout", "3000", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { services: Array<{ url: string; lifetime: number; responder: string }> };
    expect(j.services).toEqual([{ url: URL, lifetime: 10800, responder: net.saAddr }]);
  }, 30_000);

  test("esxkit slp attrs service:wbem (multicast) gets one attribute list, once", async () => {
    const r = await inUa([BUN, join(ROOT, "test/support/slp/cli-main.ts"), "attrs", "service:wbem", "--interface", net.uaAddr, "--timeout", "3000"]);
    expect(r.code).toBe(0);
    expect(r.out.match(/^# from /gm)?.length).toBe(1);
    expect(r.out).toContain(`# from ${net.saAddr}`);
    expect(r.out).toContain("lsi/lsimr13");
  }, 30_000);

  test("PRList convergence: our joined address, our other address or loopback in the PRList silences us; a stranger's does not", async () => {
    const res = await probe([
      { bytes: srvRqst({ flags: MCAST, xid: 11 }) },
      { bytes: srvRqst({ flags: MCAST, xid: 11, prList: net.saAddr }) },
      { bytes: srvRqst({ flags: MCAST, xid: 12, prList: `198.51.100.77,${net.saOther}` }) },
      { bytes: srvRqst({ flags: MCAST, xid: 13, prList: "127.0.0.1" }) },
      { bytes: srvRqst({ flags: MCAST, xid: 14, prList: "198.51.100.77, not-an-ip" }) },
    ]);
    expect(res.map((s) => s.replies.length)).toEqual([1, 0, 0, 0, 1]);
    const first = res[0]!.replies[0]!;
    expect(first.address).toBe(net.saAddr);
    expect(first.port).toBe(427); // from port 427, to the probe's ephemeral port (where it arrived)
    const m = decode(Buffer.from(first.hex, "hex"));
    expect(m.xid).toBe(11);
  }, 30_000);

  test("multicast SA discovery gets an SAAdvert naming the interface address; DA discovery and no-match get nothing", async () => {
    const res = await probe([
      { bytes: srvRqst({ flags: MCAST, xid: 21, type: "service:service-agent", scopes: "" }) },
      { bytes: srvRqst({ flags: MCAST, xid: 22, type: "service:directory-agent", scopes: "" }) },
      { bytes: srvRqst({ flags: MCAST, xid: 23, type: "service:printer" }) },
      { bytes: srvRqst({ flags: MCAST, xid: 24, scopes: "OTHER" }) },
    ]);
    expect(res.map((s) => s.replies.length)).toEqual([1, 0, 0, 0]);
    const sa = decode(Buffer.from(res[0]!.replies[0]!.hex, "hex"));
    expect(sa.functionId === 11 && sa.body.url).toBe(`service:service-agent://${net.saAddr}`);
  }, 30_000);

  test("unicast to the interface address is answered too", async () => {
    const res = await probe([{ bytes: srvRqst({ xid: 31 }), to: net.saAddr }]);
    expect(res[0]!.replies.length).toBe(1);
    expect(res[0]!.replies[0]!.address).toBe(net.saAddr);
  }, 30_000);

  test("the checklist's multicast cases get silence, each followed by a liveness probe", async () => {
    const cases = CHECKLIST.filter((c) => c.multicast);
    expect(cases.length).toBeGreaterThan(4);
    const steps = cases.flatMap((c) => [{ bytes: c.bytes, waitMs: 200 }, { bytes: srvRqst({ flags: MCAST, xid: 0x5151 }), waitMs: 400 }]);
    const res = await probe(steps);
    res.forEach((s, i) => {
      expect(`${i % 2 === 0 ? cases[i / 2]!.name : "liveness"}: ${s.replies.length}`).toBe(`${i % 2 === 0 ? cases[i / 2]!.name : "liveness"}: ${i % 2 === 0 ? 0 : 1}`);
    });
  }, 60_000);

  test("status reports the requests seen", async () => {
    responder.stdin.write("status\n");
    responder.stdin.flush();
    const line = await readLine(responder.stdout, /^\{/, 5000);
    const s = JSON.parse(line) as { requests: number; replies: number; drops: number; addresses: string[] };
    expect(s.addresses).toEqual([net.saAddr]);
    expect(s.requests).toBeGreaterThan(10);
    expect(s.replies).toBeGreaterThan(4);
    expect(s.drops).toBeGreaterThan(4);
  });

  test("the capture from the veth: replies leave from the interface address, dissect cleanly, one reply per converging request", async () => {
    capture!.kill("SIGTERM");
    await Promise.race([capture!.exited, Bun.sleep(5000)]);
    const fields = spawnSync("tshark", ["-n", "-r", pcap, "-Y", "srvloc", "-T", "fields", "-E", "separator=\t", "-e", "ip.src", "-e", "ip.dst", "-e", "udp.srcport", "-e", "srvloc.function", "-e", "srvloc.xid", "-e", "_ws.malformed", "-e", "srvloc.srvreq.prlist"], { encoding: "utf8", timeout: 30_000 });
    expect(fields.status).toBe(0);
    const rows = fields.stdout.trim().split("\n").map((l) => l.split("\t"));
    const replies = rows.filter((r) => ["2", "7", "10", "11"].includes(r[3] ?? ""));
    expect(replies.length).toBeGreaterThan(5);
    for (const r of replies) {
      expect(r[0]).toBe(net.saAddr);
      expect(r[1]).toBe(net.uaAddr);
      expect(r[2]).toBe("427");
      expect(r[5] ?? "").toBe("");
    }
    // Converging requests (retransmitted with our address in the PRList) got exactly one SrvRply.
    const byXid = new Map<string, { rq: number; rp: number; withUs: boolean }>();
    for (const r of rows) {
      const k = r[4]!;
      const v = byXid.get(k) ?? { rq: 0, rp: 0, withUs: false };
      if (r[3] === "1") v.rq++;
      if (r[3] === "2") v.rp++;
      if (r[3] === "1" && (r[6] ?? "").split(",").includes(net.saAddr)) v.withUs = true;
      byXid.set(k, v);
    }
    const converged = [...byXid.values()].filter((v) => v.withUs);
    expect(converged.length).toBeGreaterThan(0);
    for (const v of converged) expect(v.rp).toBe(1);
  }, 30_000);
});
