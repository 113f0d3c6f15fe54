// The responder on real sockets on loopback: replies, the UA and the CLI against it, the
// security checklist with a liveness probe after each case, limits, and TCP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SlpConfig } from "../../src/config/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { metrics } from "../../src/log/metrics.ts";
import { buildEntries } from "../../src/slp/entries.ts";
import { SlpResponder } from "../../src/slp/responder.ts";
import { createSlpService, type SlpService } from "../../src/slp/service.ts";
import { findAttributes, findServices, tcpRequest } from "../../src/slp/ua.ts";
import { message } from "../../src/slp/wire/index.ts";
import { slpConfig, WBEM_URL } from "../support/slp/config.ts";
import { tshark } from "../support/slp/pcap.ts";
import { attrRqst, CHECKLIST, decode, srvRqst, srvTypeRqst } from "../support/slp/requests.ts";
import { freePort, UdpProbe } from "../support/slp/udp-client.ts";

const ROOT = join(import.meta.dir, "../..");

/** The shared test entry on `port`, with TCP on and rate limits out of the way. */
function config(port: number, over: Partial<SlpConfig> = {}): SlpConfig {
  return slpConfig({
    vmware_infrastructure: false,
    port,
    tcp: true,
    rate_per_source: 1_000_000,
    rate_burst: 1_000_000,
    reply_bytes_per_s: 1_000_000_000,
    ...over,
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function startService(cfg: SlpConfig): Promise<{ svc: SlpService; responder: SlpResponder }> {
  const responder = new SlpResponder({ port: cfg.port, logger: silentLogger, multicast: false });
  await responder.start();
  const svc = createSlpService(cfg, { logger: silentLogger, responder });
  await svc.start();
  cleanups.push(async () => {
    await svc.stop();
    await responder.stop();
  });
  return { svc, responder };
}

let port: number;
let svc: SlpService;
let probe: UdpProbe;
const captured: Uint8Array[] = [];

beforeAll(async () => {
  port = await freePort();
  ({ svc } = await startService(config(port)));
  probe = await UdpProbe.open();
  cleanups.push(() => probe.close());
});

async function ask(bytes: Uint8Array, ms = 500) {
  const r = await probe.request(bytes, port, "127.0.0.1", ms);
  if (r) captured.push(bytes, r.bytes);
  return r;
}

async function alive(): Promise<void> {
  const r = await ask(srvRqst({ xid: 0x7777 }), 2000);
  expect(r).toBeDefined();
  const m = decode(r!.bytes);
  expect(m.functionId === 2 && m.body.urls.map((u) => u.url)).toEqual([WBEM_URL]);
}

describe("unicast on loopback", () => {
  test("SrvRqst, AttrRqst and SrvTypeRqst are answered from 127.0.0.1:port to the requester's port", async () => {
    for (const req of [srvRqst(), attrRqst({ url: WBEM_URL }), srvTypeRqst()]) {
      const r = await ask(req);
      expect(r?.address).toBe("127.0.0.1");
      expect(r?.port).toBe(port);
      expect(decode(r!.bytes).xid).toBe(decode(req).xid);
    }
  });

  test("a retransmission (same source, XID and bytes) gets the identical reply", async () => {
    const req = attrRqst({ xid: 0x4242, url: WBEM_URL });
    const a = await ask(req);
    const b = await ask(req);
    expect(Buffer.compare(a!.bytes, b!.bytes)).toBe(0);
  });

  test("the user agent finds the service and reads its attributes", async () => {
    const found = await findServices("service:wbem", { unicast: "127.0.0.1", port, timeoutMs: 2000 });
    expect(found.services).toEqual([{ url: WBEM_URL, lifetime: 65535, responder: "127.0.0.1" }]);
    const attrs = await findAttributes(WBEM_URL, { unicast: "127.0.0.1", port, timeoutMs: 2000 });
    expect(attrs.results.length).toBe(1);
    expect(attrs.results[0]!.truncated).toBe(false);
    expect(attrs.results[0]!.attributes.find((a) => a.tag === "Namespace")?.values).toContain("lsi/lsimr13");
  });

  test("unicast SA discovery is answered as slpd answers it: an SAAdvert naming 127.0.0.1, our scopes and types", async () => {
    const r = await ask(srvRqst({ xid: 0x5a5a, type: "service:service-agent", scopes: "" }));
    const m = decode(r!.bytes);
    expect(m.functionId === 11 && m.body).toEqual({ url: "service:service-agent://127.0.0.1", scopeList: "DEFAULT", attrList: "(service-type=service:wbem:https)" });
    const found = await findServices("service:service-agent", { unicast: "127.0.0.1", port, timeoutMs: 2000 });
    expect(found).toEqual({
      services: [{ url: "service:service-agent://127.0.0.1", lifetime: 0, responder: "127.0.0.1", scopes: "DEFAULT", attrList: "(service-type=service:wbem:https)" }],
      errors: [],
    });
    // tshark reads the SAAdvert's fields.
    const t = tshark([{ payload: r!.bytes, srcPort: 427, dstPort: 40000 }], ["srvloc.function", "srvloc.saadvert.url", "srvloc.saadvert.scopelist"]);
    expect(t.malformed).toEqual([]);
    expect(t.fields[0]).toMatchObject({ "srvloc.function": "11", "srvloc.saadvert.url": "service:service-agent://127.0.0.1", "srvloc.saadvert.scopelist": "DEFAULT" });
  });

  test("unicast SA discovery for a scope we do not serve gets SCOPE_NOT_SUPPORTED", async () => {
    const m = decode((await ask(srvRqst({ type: "service:service-agent", scopes: "OTHER" })))!.bytes);
    expect(m.functionId === 2 && m.body.errorCode).toBe(4);
    await expect(findServices("service:service-agent", { unicast: "127.0.0.1", port, timeoutMs: 2000, scopes: ["OTHER"] })).rejects.toMatchObject({ code: "ESX_SLP_REPLY", slpError: 4 });
  });

  test("status counts requests and replies", () => {
    const s = svc.status();
    expect(s.name).toBe("esx1");
    expect(s.requests).toBeGreaterThan(3);
    expect(s.replies).toBeGreaterThan(3);
    expect(s.lastRequest).toBeDefined();
    expect(metrics.render()).toContain("esxkit_slp_replies_total");
  });
});

describe("security checklist on the live socket, each case followed by a liveness probe", () => {
  test.each(CHECKLIST.map((c) => [`${c.item}. ${c.name}`, c] as const))("%s", async (_n, c) => {
    const r = await ask(c.bytes, c.expect === "drop" ? 150 : 1000);
    if (c.expect === "drop") expect(r).toBeUndefined();
    else {
      expect(r).toBeDefined();
      const m = decode(r!.bytes);
      const err = m.functionId === 2 || m.functionId === 7 || m.functionId === 10 ? m.body.errorCode : -1;
      expect(err).toBe(c.expect.error);
    }
    await alive();
  });

  test("drops are counted by reason", () => {
    const text = metrics.render();
    for (const reason of ["refused-function", "version", "length-mismatch", "ext-loop", "da-discovery"]) {
      expect(text).toMatch(new RegExp(`esxkit_slp_drops_total\\{reason="${reason}"\\} \\d+`));
    }
  });
});

describe("TCP", () => {
  test("an AttrRqst over TCP is answered whole; the UA falls back to TCP when UDP overflows", async () => {
    const big = await freePort();
    const attributes: Record<string, string[]> = {};
    for (let i = 0; i < 30; i++) attributes[`x-extra-${i}`] = ["y".repeat(60)];
    await startService(config(big, { attributes }));
    const req = attrRqst({ url: WBEM_URL });
    const udp = await probe.request(req, big, "127.0.0.1", 1000);
    expect(udp!.bytes.length).toBeLessThanOrEqual(1400);
    const udpMsg = decode(udp!.bytes);
    expect((udpMsg.flags ?? 0) & 0x8000).toBe(0x8000);
    const tcpBytes = await tcpRequest("127.0.0.1", big, req, 2000);
    const tcp = decode(tcpBytes);
    expect(tcp.functionId === 7 && tcp.body.attrList.length).toBeGreaterThan(2000);
    expect(tcp.xid).toBe(udpMsg.xid);
    const ua = await findAttributes(WBEM_URL, { unicast: "127.0.0.1", port: big, timeoutMs: 2000 });
    expect(ua.results[0]!.truncated).toBe(false);
    expect(ua.results[0]!.attributes.length).toBe(48);
    // tshark reads both the truncated datagram and the TCP reply
    expect(tshark([{ payload: udp!.bytes, srcPort: 427, dstPort: 40000 }, { payload: tcpBytes, srcPort: 427, dstPort: 40000, tcp: true }]).malformed).toEqual([]);
  });

  async function tcpRaw(bytes: Uint8Array, waitMs: number): Promise<{ data: Buffer; closed: boolean }> {
    const chunks: Buffer[] = [];
    let closed = false;
    const s = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, d) {
          chunks.push(d);
        },
        close() {
          closed = true;
        },
      },
    });
    s.write(bytes);
    const until = Date.now() + waitMs;
    while (!closed && Date.now() < until) await Bun.sleep(20);
    s.end();
    return { data: Buffer.concat(chunks), closed };
  }

  test("two requests on one connection: only the first is answered, then the connection closes", async () => {
    const two = Buffer.concat([srvRqst({ xid: 1 }), srvRqst({ xid: 2 })]);
    const r = await tcpRaw(two, 2000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0); // both arrived together: more bytes than one message → refused
    const one = await tcpRaw(srvRqst({ xid: 3 }), 2000);
    expect(decode(one.data).xid).toBe(3);
    expect(one.closed).toBe(true);
  });

  test("a declared length over 4 KB and a non-v2 header are refused", async () => {
    const huge = Uint8Array.from(srvRqst());
    huge[2] = 0;
    huge[3] = 0x20;
    huge[4] = 0;
    expect((await tcpRaw(huge, 2000)).closed).toBe(true);
    const v1 = Uint8Array.from(srvRqst());
    v1[0] = 1;
    const r = await tcpRaw(v1, 2000);
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    await alive();
  });

  test("a silent connection is closed after the idle timeout", async () => {
    const r = await tcpRaw(new Uint8Array([2, 1]), 8000);
    expect(r.closed).toBe(true);
  }, 15_000);
});

describe("start-up failures", () => {
  test("a port already taken fails start() with the address in the message; the first service keeps answering", async () => {
    const other = new SlpResponder({ port, logger: silentLogger, multicast: false });
    await other.start();
    const dup = createSlpService(config(port, { name: "dup" }), { logger: silentLogger, responder: other });
    let err: unknown;
    try {
      await dup.start();
    } catch (e) {
      err = e;
    }
    expect(String(err)).toContain(`cannot bind UDP 127.0.0.1:${port}`);
    expect(other.addresses).toEqual([]);
    await other.stop();
    await alive();
  });
});

describe("limits", () => {
  test("per-source token bucket", async () => {
    const p = await freePort();
    await startService(config(p, { rate_per_source: 1, rate_burst: 3 }));
    let answered = 0;
    for (let i = 0; i < 10; i++) if (await probe.request(srvRqst({ xid: 100 + i }), p, "127.0.0.1", 200)) answered++;
    expect(answered).toBeGreaterThanOrEqual(3);
    expect(answered).toBeLessThanOrEqual(5);
    expect(metrics.render()).toMatch(/esxkit_slp_drops_total\{reason="rate-limited"\} \d+/);
  });

  test("global reply-bytes cap", async () => {
    const p = await freePort();
    await startService(config(p, { reply_bytes_per_s: 3000 }));
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const r = await probe.request(attrRqst({ xid: 200 + i, url: WBEM_URL }), p, "127.0.0.1", 200);
      bytes += r?.bytes.length ?? 0;
    }
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(3000 + 1400 * 2);
    expect(metrics.render()).toMatch(/esxkit_slp_drops_total\{reason="reply-cap"\} \d+/);
  });

  test("source allowlist", async () => {
    const p = await freePort();
    await startService(config(p, { allow: ["192.0.2.0/24"] }));
    expect(await probe.request(srvRqst(), p, "127.0.0.1", 300)).toBeUndefined();
    const q = await freePort();
    await startService(config(q, { allow: ["127.0.0.0/8"] }));
    expect(await probe.request(srvRqst(), q, "127.0.0.1", 1000)).toBeDefined();
  });
});

describe("CLI against the responder", () => {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-slp-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const p = Bun.spawn([process.execPath, join(ROOT, "test/support/slp/cli-main.ts"), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const timer = setTimeout(() => p.kill(), 20_000);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    return { out, err, code };
  }

  test("esxkit slp find --unicast", async () => {
    const r = await cli("find", "--unicast", "127.0.0.1", "--port", String(port), "--timeout", "2000");
    expect(r.code).toBe(0);
    expect(r.out).toContain(WBEM_URL);
    expect(r.out).toContain("65535");
  });

  test("esxkit slp find service:service-agent --unicast: the agent, its scopes and service types", async () => {
    const r = await cli("find", "service:service-agent", "--unicast", "127.0.0.1", "--port", String(port), "--timeout", "2000");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/service:service-agent:\/\/127\.0\.0\.1\s+DEFAULT\s+\(service-type=service:wbem:https\)\s+127\.0\.0\.1/);
  });

  test("esxkit slp find for a type nobody offers exits 1", async () => {
    const r = await cli("find", "service:printer", "--unicast", "127.0.0.1", "--port", String(port), "--timeout", "1000");
    expect(r.code).toBe(1);
    expect(r.err).toContain("no service:printer services found");
  });

  test("esxkit slp attrs --save, then the saved file serves as attributes_file", async () => {
    const file = join(dir, "esx1.attrs");
    const r = await cli("attrs", WBEM_URL, "--unicast", "127.0.0.1", "--port", String(port), "--save", file, "--timeout", "2000");
    expect(r.code).toBe(0);
    expect(r.out).toContain("(Namespace=root/interop,interop,root/cimv2,root/config,vmware/esxv2,lsi/lsimr13)");
    const saved = readFileSync(file, "utf8");
    expect(saved).toStartWith("# esxkit slp attrs");
    const fromProfile = buildEntries(config(port))[0]!;
    const fromFile = buildEntries(config(port, { profile: undefined, attributes_file: file }))[0]!;
    expect(fromFile.attrWire).toEqual(fromProfile.attrWire);
  });

  test("bad usage exits 2", async () => {
    const r = await cli("find", "--port", "99999");
    expect(r.code).toBe(2);
  });
});

describe("tshark", () => {
  test("every reply captured on the socket above dissects without a malformed marker", () => {
    const pk = captured.map((b, i) => (i % 2 === 0 ? { payload: b } : { payload: b, srcPort: 427, dstPort: 40000 }));
    expect(pk.length).toBeGreaterThan(60);
    const r = tshark(pk);
    expect(r.malformed.filter((n) => n % 2 === 0)).toEqual([]);
  });

  test("message decode agrees with every captured reply", () => {
    for (let i = 1; i < captured.length; i += 2) expect(() => message.decode(captured[i]!)).not.toThrow();
  });
});
