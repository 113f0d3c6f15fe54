// [[slp]] entries as the daemon runs them: createSlpService(cfg, {logger}) with no responder
// given, so entries on one port share one responder and its sockets. Each entry's own options
// (scopes, tcp, allow, vmware_infrastructure) apply to its services only, and stopping or
// reloading one entry leaves the others answering, unchanged.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SlpConfig } from "../../src/config/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { createSlpService, type SlpService } from "../../src/slp/service.ts";
import { findAttributes, findServices, tcpRequest } from "../../src/slp/ua.ts";
import { slpConfig } from "../support/slp/config.ts";
import { tshark } from "../support/slp/pcap.ts";
import { attrRqst, decode, srvRqst, srvTypeRqst } from "../support/slp/requests.ts";
import { freePort, UdpProbe } from "../support/slp/udp-client.ts";

const URL_A = "service:wbem:https://esx-a.example.jp:5989";
const URL_B = "service:wbem:https://esx-b.example.jp:5989";
const VMW_B = "service:VMwareInfrastructure://esx-b.example.jp";

let port: number;
let probe: UdpProbe;
const running = new Set<SlpService>();
const captured: Array<{ payload: Uint8Array; srcPort?: number; dstPort?: number; tcp?: boolean }> = [];

function entry(name: string, host: string, over: Partial<SlpConfig> = {}): SlpService {
  // Limits out of the way: sharing entries get the strictest of their limits.
  return createSlpService(slpConfig({ name, host, port, vmware_infrastructure: false, rate_per_source: 1e6, rate_burst: 1e6, reply_bytes_per_s: 1e9, ...over }), { logger: silentLogger });
}

async function start(s: SlpService): Promise<SlpService> {
  await s.start();
  running.add(s);
  return s;
}

async function stop(s: SlpService): Promise<void> {
  running.delete(s);
  await s.stop();
}

async function ask(bytes: Uint8Array, ms = 1000) {
  const r = await probe.request(bytes, port, "127.0.0.1", ms);
  if (r) captured.push({ payload: bytes }, { payload: r.bytes, srcPort: 427, dstPort: 40000 });
  return r ? decode(r.bytes) : undefined;
}

async function urls(req = srvRqst()): Promise<string[] | undefined> {
  const m = await ask(req);
  return m?.functionId === 2 ? m.body.urls.map((u) => u.url).sort() : undefined;
}

async function attrs(url: string, tags = ""): Promise<string | undefined> {
  const m = await ask(attrRqst({ url, tags }));
  return m?.functionId === 7 ? m.body.attrList : undefined;
}

async function overTcp(url: string): Promise<string> {
  const req = attrRqst({ url, xid: 0x7c7c });
  const reply = await tcpRequest("127.0.0.1", port, req, 3000);
  captured.push({ payload: req, tcp: true, srcPort: 40000, dstPort: 427 }, { payload: reply, tcp: true, srcPort: 427, dstPort: 40000 });
  const m = decode(reply);
  if (m.functionId !== 7) throw new Error(`expected an AttrRply over TCP, got function ${m.functionId}`);
  return m.body.attrList;
}

let a: SlpService;
let b: SlpService;

beforeAll(async () => {
  port = await freePort();
  probe = await UdpProbe.open();
  a = await start(entry("a", "esx-a.example.jp", { tcp: true, scopes: ["DEFAULT", "LAB"] }));
  b = await start(entry("b", "esx-b.example.jp", { vmware_infrastructure: true }));
});

afterAll(async () => {
  for (const s of running) await s.stop();
  probe?.close();
});

describe("two entries on one port", () => {
  test("one socket answers for both; each entry's scopes, tcp and allow apply to its own services", async () => {
    expect(await urls()).toEqual([URL_A, URL_B]);
    expect(await urls(srvRqst({ scopes: "LAB" }))).toEqual([URL_A]);
    expect(await attrs(URL_B, "Namespace")).toContain("lsi/lsimr13");
    const types = await ask(srvTypeRqst({ scopes: "lab" }));
    expect(types?.functionId === 10 && types.body.typeList).toBe("service:wbem:https");
    // TCP is on for a only: its list is served over TCP, b's is not.
    expect(await overTcp(URL_A)).toStartWith("(template-type=wbem)");
    expect(await overTcp(URL_B)).toBe("");
    // An entry that does not allow this source is invisible to it; the others are not.
    const c = await start(entry("c", "esx-c.example.jp", { allow: ["192.0.2.0/24"] }));
    expect(await urls()).toEqual([URL_A, URL_B]);
    await stop(c);
  });

  test("vmware_infrastructure: service:VMwareInfrastructure with product and hardwareUuid, as ESXi's hostd registers them", async () => {
    const found = await findServices("service:VMwareInfrastructure", { unicast: "127.0.0.1", port, timeoutMs: 2000 });
    expect(found.services.map((s) => s.url)).toEqual([VMW_B]);
    const got = await findAttributes(VMW_B, { unicast: "127.0.0.1", port, timeoutMs: 2000 });
    expect(got.results[0]!.attrList).toMatch(/^\(product="VMware ESXi"\),\(hardwareUuid="[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"\)$/);
    // nmap's vmware-version asks for the product tag alone.
    expect(await attrs(VMW_B, "product")).toBe('(product="VMware ESXi")');
    // The wbem entry does not carry them.
    expect(await attrs(URL_B, "product,hardwareUuid")).toBe("");
  });

  test("stopping a leaves b answering, and a retransmission of an earlier request no longer names a", async () => {
    const req = srvRqst({ xid: 0x5a5a });
    expect(await urls(req)).toEqual([URL_A, URL_B]);
    await stop(a);
    expect(await urls(req)).toEqual([URL_B]);
    expect(await urls()).toEqual([URL_B]);
    expect(await attrs(URL_A)).toBe("");
    expect(await attrs(URL_B, "template-type")).toBe("(template-type=wbem)");
    // a was the only entry asking for TCP: the listener is gone.
    await expect(tcpRequest("127.0.0.1", port, attrRqst({ url: URL_B }), 2000)).rejects.toThrow();
  });

  test("reloading a (stop, new config, start) three times: b answers every request sent meanwhile", async () => {
    // b's requests go from a probe of their own, concurrently with the reloads.
    const bProbe = await UdpProbe.open();
    let sent = 0;
    let answered = 0;
    let busy = true;
    const loop = (async () => {
      while (busy) {
        sent++;
        const r = await bProbe.request(attrRqst({ url: URL_B, tags: "service-id", xid: sent }), port, "127.0.0.1", 1000);
        const m = r && decode(r.bytes);
        if (m?.functionId === 7 && m.body.attrList.startsWith("(service-id=sfcb:")) answered++;
      }
    })();
    try {
      let current: SlpService | undefined;
      for (let gen = 1; gen <= 3; gen++) {
        if (current) await stop(current);
        current = await start(entry("a", "esx-a.example.jp", { tcp: true, attributes: { "x-generation": [String(gen)] } }));
        expect(await attrs(URL_A, "x-generation")).toBe(`(x-generation=${gen})`);
      }
    } finally {
      busy = false;
      await loop;
      bProbe.close();
    }
    expect(sent).toBeGreaterThan(2);
    expect(answered).toBe(sent);
    expect(await urls()).toEqual([URL_A, URL_B]);
    expect(await overTcp(URL_A)).toContain("(x-generation=3)");
    expect(b.status().replies).toBeGreaterThan(sent);
  });

  test("an entry on a port someone else holds fails start() with the address in the message; nothing else is disturbed", async () => {
    const blocker = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      const d = createSlpService(slpConfig({ name: "d", port: blocker.port, vmware_infrastructure: false }), { logger: silentLogger });
      await expect(d.start()).rejects.toThrow(`cannot bind UDP 127.0.0.1:${blocker.port}`);
      await d.stop();
    } finally {
      blocker.close();
    }
    expect(await urls()).toEqual([URL_A, URL_B]);
  });
});

describe("tshark", () => {
  test("every reply above, UDP and TCP, dissects without a malformed marker", () => {
    expect(captured.length).toBeGreaterThan(20);
    const r = tshark(captured, ["srvloc.function"]);
    expect(r.malformed).toEqual([]);
    const fns = new Set(r.fields.map((f) => f["srvloc.function"]));
    for (const fn of ["2", "7", "10"]) expect(fns).toContain(fn);
  });
});
