// The request handler, table-driven: RFC 2608 behaviour, the notes' security checklist, and
// every reply checked by tshark's srvloc dissector.
import { describe, expect, test } from "bun:test";
import { buildEntries, makeEntry } from "../../src/slp/entries.ts";
import { handleRequest, type HandlerState, type Outcome, type RequestContext, TCP_MAX_REPLY, UDP_MAX_REPLY } from "../../src/slp/handler.ts";
import { PredicateCache } from "../../src/slp/predicate.ts";
import { tshark } from "../support/slp/pcap.ts";
import { slpConfig, WBEM_URL } from "../support/slp/config.ts";
import { attrRqst, CHECKLIST, decode, MCAST, srvRqst, srvTypeRqst } from "../support/slp/requests.ts";

const HOST = "esxi-main.example.jp";
const URL = WBEM_URL;
const cfg = slpConfig();
const entries = buildEntries(cfg);
const state: HandlerState = { entries, isSelf: (a) => a === "127.0.0.1" || a === "127.0.0.2", predicates: new PredicateCache() };
const uni: RequestContext = { sourceAddress: "127.0.0.9", localAddress: "127.0.0.1", multicast: false, maxReplyBytes: UDP_MAX_REPLY };
const mc: RequestContext = { ...uni, multicast: true };

const replies: Uint8Array[] = [];
function run(req: Uint8Array, ctx = uni, st = state): Outcome {
  const o = handleRequest(req, ctx, st);
  if (o.kind === "reply") {
    replies.push(req, o.bytes);
    expect(o.bytes.length).toBeLessThanOrEqual(ctx.maxReplyBytes);
  }
  return o;
}
function reply(req: Uint8Array, ctx = uni, st = state) {
  const o = run(req, ctx, st);
  if (o.kind !== "reply") throw new Error(`expected a reply, got drop ${o.reason}`);
  return { ...o, msg: decode(o.bytes) };
}
function dropReason(req: Uint8Array, ctx = uni, st = state): string {
  const o = run(req, ctx, st);
  if (o.kind !== "drop") throw new Error(`expected a drop, got a reply ${JSON.stringify(decode(o.bytes))}`);
  return o.reason;
}
function urls(req: Uint8Array, ctx = uni): string[] {
  const r = reply(req, ctx);
  if (r.msg.functionId !== 2) throw new Error("not a SrvRply");
  return r.msg.body.urls.map((u) => u.url);
}

describe("SrvRqst", () => {
  test.each([
    ["service:wbem", [URL]],
    ["SERVICE:WBEM", [URL]],
    ["service:wbem:https", [URL]],
    ["wbem", [URL]],
    ["service:wbem:http", []],
    ["service:VMwareInfrastructure", [`service:VMwareInfrastructure://${HOST}`]],
    ["service:printer", []],
  ])("unicast %s", (type, want) => {
    expect(urls(srvRqst({ type }))).toEqual(want);
  });

  test.each(["DEFAULT", "default", " DEFAULT ", "foo,DEFAULT"])("scope list %j is served", (scopes) => {
    expect(urls(srvRqst({ scopes }))).toEqual([URL]);
  });

  test("XID and language tag are echoed; the reply has no R flag", () => {
    const r = reply(srvRqst({ xid: 0xbeef, lang: "de-CH", flags: MCAST }), mc);
    expect(r.msg.xid).toBe(0xbeef);
    expect(r.msg.langTag).toBe("de-CH");
    expect(r.msg.flags).toBe(0);
  });

  test("a predicate selects by attribute", () => {
    expect(urls(srvRqst({ predicate: "(Namespace=lsi/lsimr13)" }))).toEqual([URL]);
    expect(urls(srvRqst({ predicate: "(Namespace=hp/none)" }))).toEqual([]);
    expect(urls(srvRqst({ predicate: "(RegisteredProfilesSupported=SNIA:Host Hardware RAID*)" }))).toEqual([URL]);
  });

  test("multicast: no reply when nothing matches, scope unknown, or predicate broken", () => {
    expect(dropReason(srvRqst({ flags: MCAST, type: "service:printer" }), mc)).toBe("no-match");
    expect(dropReason(srvRqst({ flags: MCAST, scopes: "OTHER" }), mc)).toBe("scope");
    expect(dropReason(srvRqst({ flags: MCAST, predicate: "(x=" }), mc)).toBe("predicate");
  });

  test("unicast errors: SCOPE_NOT_SUPPORTED for an unknown or empty scope list, PARSE_ERROR for an empty type", () => {
    for (const scopes of ["OTHER", ""]) {
      const r = reply(srvRqst({ scopes }));
      expect(r.msg.functionId === 2 && r.msg.body.errorCode).toBe(4);
    }
    const r = reply(srvRqst({ type: "" }));
    expect(r.msg.functionId === 2 && r.msg.body.errorCode).toBe(2);
  });

  test("the R flag on a unicast datagram means multicast rules", () => {
    expect(dropReason(srvRqst({ flags: MCAST, type: "service:printer" }), uni)).toBe("no-match");
  });
});

describe("previous responders", () => {
  test("any of our addresses in the PRList: no reply; other entries are ignored", () => {
    expect(dropReason(srvRqst({ flags: MCAST, prList: "127.0.0.2" }), mc)).toBe("prlist-self");
    expect(dropReason(attrRqst({ flags: MCAST, prList: "10.0.0.1, 127.0.0.1" }), mc)).toBe("prlist-self");
    expect(dropReason(srvTypeRqst({ flags: MCAST, prList: "127.0.0.1" }), mc)).toBe("prlist-self");
    expect(urls(srvRqst({ flags: MCAST, prList: "10.0.0.1,garbage,,::1" }), mc)).toEqual([URL]);
  });
});

describe("SA discovery, never a DA", () => {
  test("multicast service:service-agent gets an SAAdvert naming the address the request arrived on", () => {
    const r = reply(srvRqst({ flags: MCAST, type: "service:service-agent", scopes: "" }), { ...mc, localAddress: "198.51.100.7" });
    expect(r.msg.functionId).toBe(11);
    if (r.msg.functionId !== 11) return;
    expect(r.msg.body.url).toBe("service:service-agent://198.51.100.7");
    expect(r.msg.body.scopeList).toBe("DEFAULT");
    expect(r.msg.body.attrList).toContain("service:wbem:https");
  });

  test("SA discovery with a matching scope and a satisfied predicate is answered; otherwise not", () => {
    expect(reply(srvRqst({ flags: MCAST, type: "service:service-agent", predicate: "(service-type=service:wbem*)" }), mc).msg.functionId).toBe(11);
    expect(dropReason(srvRqst({ flags: MCAST, type: "service:service-agent", scopes: "OTHER" }), mc)).toBe("scope");
    expect(dropReason(srvRqst({ flags: MCAST, type: "service:service-agent", predicate: "(service-type=nfs)" }), mc)).toBe("no-match");
  });

  // [case, request fields, reply function, error code] — unicast, as slpd answers it.
  test.each([
    ["our scope", { scopes: "DEFAULT" }, 11, undefined],
    ["no scope list (every SA)", { scopes: "" }, 11, undefined],
    ["scope in other case and padding", { scopes: " default " }, 11, undefined],
    ["a satisfied predicate", { predicate: "(service-type=service:wbem*)" }, 11, undefined],
    ["a scope we do not serve", { scopes: "OTHER" }, 2, 4],
    ["an unmet predicate", { predicate: "(service-type=nfs)" }, 2, 0],
    ["a malformed predicate", { predicate: "(service-type=" }, 2, 0],
  ] as const)("unicast SA discovery with %s", (_c, fields, fn, errorCode) => {
    const r = reply(srvRqst({ type: "service:service-agent", ...fields }), { ...uni, localAddress: "198.51.100.7" });
    expect(r.msg.functionId).toBe(fn);
    if (r.msg.functionId === 11) {
      expect(r.msg.body.url).toBe("service:service-agent://198.51.100.7");
      expect(r.msg.body.scopeList).toBe("DEFAULT");
    }
    if (r.msg.functionId === 2) expect({ error: r.msg.body.errorCode, urls: r.msg.body.urls.length }).toEqual({ error: errorCode!, urls: 0 });
  });

  test("service:directory-agent is never answered", () => {
    expect(dropReason(srvRqst({ flags: MCAST, type: "service:directory-agent", scopes: "" }), mc)).toBe("da-discovery");
    expect(dropReason(srvRqst({ type: "service:directory-agent" }), uni)).toBe("da-discovery");
  });
});

describe("AttrRqst", () => {
  function attrList(req: Uint8Array, ctx = uni): string {
    const r = reply(req, ctx);
    if (r.msg.functionId !== 7) throw new Error("not an AttrRply");
    expect(r.msg.body.errorCode).toBe(0);
    return r.msg.body.attrList;
  }

  test("by URL (exact, case-sensitive) and by type", () => {
    const byUrl = attrList(attrRqst({ url: URL }));
    expect(byUrl).toStartWith("(template-type=wbem),(template-version=1.0)");
    expect(byUrl).toContain("(Namespace=root/interop,interop,root/cimv2,root/config,vmware/esxv2,lsi/lsimr13)");
    expect(attrList(attrRqst({ url: "service:wbem" }))).toBe(byUrl);
    expect(attrList(attrRqst({ url: URL.toUpperCase() }))).toBe("");
  });

  test("tag lists with wildcards", () => {
    expect(attrList(attrRqst({ url: URL, tags: "Namespace,classinfo" }))).toBe("(Namespace=root/interop,interop,root/cimv2,root/config,vmware/esxv2,lsi/lsimr13),(Classinfo=0,0,0,0,0,0)");
    expect(attrList(attrRqst({ url: URL, tags: "template-*" }))).toStartWith("(template-type=wbem)");
    expect(attrList(attrRqst({ url: URL, tags: "nothing*" }))).toBe("");
  });

  test("multicast: silence for an unknown URL or an empty result", () => {
    expect(dropReason(attrRqst({ flags: MCAST, url: "service:wbem:https://other:5989" }), mc)).toBe("no-match");
    expect(dropReason(attrRqst({ flags: MCAST, url: URL, tags: "nothing" }), mc)).toBe("no-match");
  });

  test("a bad tag-list escape is PARSE_ERROR (unicast)", () => {
    const r = reply(attrRqst({ url: URL, tags: "a\\zz" }));
    expect(r.msg.functionId === 7 && r.msg.body.errorCode).toBe(2);
  });
});

describe("SrvTypeRqst", () => {
  test("all naming authorities, IANA only, and an unknown authority", () => {
    const list = (na: string | null) => {
      const r = reply(srvTypeRqst({ na }));
      return r.msg.functionId === 10 ? r.msg.body.typeList : undefined;
    };
    expect(list(null)).toBe("service:wbem:https,service:VMwareInfrastructure");
    expect(list("")).toBe("service:wbem:https,service:VMwareInfrastructure");
    expect(list("acme")).toBe("");
    expect(dropReason(srvTypeRqst({ flags: MCAST, na: "acme" }), mc)).toBe("no-match");
  });
});

describe("size: whole entries, Overflow flag", () => {
  const many = Array.from({ length: 40 }, (_, i) => makeEntry("big", `service:wbem:https://host-${String(i).padStart(3, "0")}.a-rather-long-domain.example.jp:5989`, 600, ["DEFAULT"], []));
  const big: HandlerState = { ...state, entries: many };

  test("a SrvRply over UDP carries only whole URL entries, stays within 1400 bytes and sets O", () => {
    const r = reply(srvRqst(), uni, big);
    expect(r.truncated).toBe(true);
    expect(r.bytes.length).toBeLessThanOrEqual(1400);
    expect((r.msg.flags ?? 0) & 0x8000).toBe(0x8000);
    if (r.msg.functionId !== 2) throw new Error();
    expect(r.msg.body.urls.length).toBeGreaterThan(5);
    expect(r.msg.body.urls.length).toBeLessThan(40);
    for (const u of r.msg.body.urls) expect(u.url).toMatch(/^service:wbem:https:\/\/host-\d{3}\.a-rather-long-domain\.example\.jp:5989$/);
  });

  test("over TCP the same request gets everything", () => {
    const r = reply(srvRqst(), { ...uni, maxReplyBytes: TCP_MAX_REPLY }, big);
    expect(r.truncated).toBe(false);
    expect(r.msg.functionId === 2 && r.msg.body.urls.length).toBe(40);
  });

  test("an AttrRply is cut at an attribute boundary", () => {
    const long = makeEntry("long", URL, 600, ["DEFAULT"], Array.from({ length: 30 }, (_, i) => ({ tag: `t${i}`, values: ["x".repeat(60)] })));
    const r = reply(attrRqst({ url: URL }), uni, { ...state, entries: [long] });
    expect(r.truncated).toBe(true);
    if (r.msg.functionId !== 7) throw new Error();
    expect(r.msg.body.attrList).toMatch(/^(\(t\d+=x{60}\),)*\(t\d+=x{60}\)$/);
  });
});

describe("security checklist (notes §4), each followed by a liveness probe", () => {
  test.each(CHECKLIST.map((c) => [`${c.item}. ${c.name}`, c] as const))("%s", (_n, c) => {
    const o = run(c.bytes, c.multicast ? mc : uni);
    if (c.expect === "drop") expect(o.kind).toBe("drop");
    else {
      expect(o.kind).toBe("reply");
      if (o.kind === "reply") expect(o.errorCode).toBe(c.expect.error);
    }
    // liveness: the next ordinary request is answered normally
    expect(urls(srvRqst({ xid: 7 }))).toEqual([URL]);
  });
});

describe("tshark", () => {
  test("every reply produced above dissects without a malformed marker", () => {
    // The checklist's broken requests are in the capture too, so tshark does flag some requests.
    const pk = replies.map((b, i) => (i % 2 === 0 ? { payload: b } : { payload: b, srcPort: 427, dstPort: 40000 }));
    expect(pk.length).toBeGreaterThan(50);
    const r = tshark(pk, ["srvloc.function"]);
    // Odd frames are the requests (some malformed on purpose); even frames are our replies.
    const bad = r.malformed.filter((n) => n % 2 === 0).map((n) => `frame ${n}: ${Buffer.from(pk[n - 1]!.payload.subarray(0, 60)).toString("hex")}`);
    expect(bad).toEqual([]);
    // ...and tshark does notice broken input: the oracle is not blind.
    expect(r.malformed.filter((n) => n % 2 === 1).length).toBeGreaterThan(0);
    expect(r.fields.length).toBe(pk.length);
    // Every reply type we send is among them: SrvRply, AttrRply, SrvTypeRply, SAAdvert.
    const replyFunctions = new Set(r.fields.filter((_, i) => i % 2 === 1).map((f) => f["srvloc.function"]));
    expect([...replyFunctions].sort()).toEqual(["10", "11", "2", "7"]);
  });
});
