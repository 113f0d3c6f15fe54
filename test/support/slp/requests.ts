// Request builders and the security checklist corpus (notes §4 "Checklist"), shared by the
// handler, live-socket and fuzz tests.
import { FunctionId, message, type SlpMessage } from "../../../src/slp/wire/index.ts";

export const MCAST = 0x2000;

export function srvRqst(o: Partial<{ xid: number; flags: number; lang: string; prList: string; type: string; scopes: string; predicate: string; spi: string }> = {}): Uint8Array {
  return message.encode({
    functionId: FunctionId.SrvRqst,
    xid: o.xid ?? 0x1234,
    flags: o.flags ?? 0,
    langTag: o.lang ?? "en",
    body: { prList: o.prList ?? "", serviceType: o.type ?? "service:wbem", scopeList: o.scopes ?? "DEFAULT", predicate: o.predicate ?? "", spi: o.spi ?? "" },
  });
}

export function attrRqst(o: Partial<{ xid: number; flags: number; lang: string; prList: string; url: string; scopes: string; tags: string; spi: string }> = {}): Uint8Array {
  return message.encode({
    functionId: FunctionId.AttrRqst,
    xid: o.xid ?? 0x2345,
    flags: o.flags ?? 0,
    langTag: o.lang ?? "en",
    body: { prList: o.prList ?? "", url: o.url ?? "service:wbem", scopeList: o.scopes ?? "DEFAULT", tagList: o.tags ?? "", spi: o.spi ?? "" },
  });
}

export function srvTypeRqst(o: Partial<{ xid: number; flags: number; lang: string; prList: string; na: string | null; scopes: string }> = {}): Uint8Array {
  return message.encode({
    functionId: FunctionId.SrvTypeRqst,
    xid: o.xid ?? 0x3456,
    flags: o.flags ?? 0,
    langTag: o.lang ?? "en",
    body: { prList: o.prList ?? "", namingAuthority: o.na === undefined ? null : o.na, scopeList: o.scopes ?? "DEFAULT" },
  });
}

export function decode(b: Uint8Array): SlpMessage {
  return message.decode(b);
}

function patch(b: Uint8Array, at: number, ...bytes: number[]): Uint8Array {
  const c = Uint8Array.from(b);
  bytes.forEach((v, i) => {
    c[at + i] = v;
  });
  return c;
}

function setLength(b: Uint8Array): Uint8Array {
  const c = Uint8Array.from(b);
  c[2] = (c.length >> 16) & 0xff;
  c[3] = (c.length >> 8) & 0xff;
  c[4] = c.length & 0xff;
  return c;
}

/** A raw message: header with `fn` and a body of `bodyLen` filler bytes. */
function raw(fn: number, body: Uint8Array, flags = 0): Uint8Array {
  const b = new Uint8Array(16 + body.length);
  b.set([2, fn, 0, 0, 0, flags >> 8, flags & 0xff, 0, 0, 0, 0x77, 0x77, 0, 2, 0x65, 0x6e]);
  b.set(body, 16);
  return setLength(b);
}

/** A SrvRqst with an extension chain given as [offset of next] per extension (relative to the message). */
function withExtensions(exts: Array<{ id: number; next: number }>, firstOffset?: number): Uint8Array {
  const base = srvRqst();
  const out = new Uint8Array(base.length + exts.length * 5);
  out.set(base);
  exts.forEach((e, i) => {
    const at = base.length + i * 5;
    out.set([e.id >> 8, e.id & 0xff, (e.next >> 16) & 0xff, (e.next >> 8) & 0xff, e.next & 0xff], at);
  });
  const first = firstOffset ?? base.length;
  out[7] = (first >> 16) & 0xff;
  out[8] = (first >> 8) & 0xff;
  out[9] = first & 0xff;
  return setLength(out);
}

export interface ChecklistCase {
  item: number;
  name: string;
  bytes: Uint8Array;
  /** Sent to the group (R flag) or unicast. */
  multicast: boolean;
  /** "drop", or the SLP error code a unicast reply carries. */
  expect: "drop" | { error: number };
}

const base = srvRqst();
const AUTH_BLOCK_HUGE = new Uint8Array([0, 2, 0x10, 0x00, 0, 0, 0, 0, 0x0f, 0xf6]); // CVE-2019-5544 shape

/** Notes §4 "Checklist": inputs the responder must survive or refuse. */
export const CHECKLIST: ChecklistCase[] = [
  // 1. short datagrams and lengths past the end
  { item: 1, name: "empty datagram", bytes: new Uint8Array(0), multicast: false, expect: "drop" },
  { item: 1, name: "13-byte datagram", bytes: base.subarray(0, 13), multicast: false, expect: "drop" },
  { item: 1, name: "langtag length past the end", bytes: patch(base, 12, 0xff, 0xff), multicast: false, expect: "drop" },
  { item: 1, name: "PRList length 0xFFFF", bytes: patch(base, 16, 0xff, 0xff), multicast: false, expect: { error: 2 } },
  { item: 1, name: "service-type length past the end", bytes: patch(base, 18, 0x01, 0x00), multicast: false, expect: { error: 2 } },
  { item: 1, name: "scope length past the end", bytes: patch(base, 32, 0x7f, 0xff), multicast: false, expect: { error: 2 } },
  { item: 1, name: "predicate length past the end", bytes: patch(base, 41, 0x00, 0x40), multicast: false, expect: { error: 2 } },
  { item: 1, name: "SPI length past the end", bytes: patch(base, 43, 0xff, 0xff), multicast: false, expect: { error: 2 } },
  { item: 1, name: "AttrRqst tag-list length past the end", bytes: patch(attrRqst(), 41, 0x10, 0x00), multicast: false, expect: { error: 2 } },
  { item: 1, name: "URL length past the end (multicast: silent)", bytes: patch(attrRqst({ flags: MCAST }), 18, 0xff, 0x00), multicast: true, expect: "drop" },
  // 2. header length vs datagram
  { item: 2, name: "header length larger than the datagram", bytes: patch(base, 4, base.length + 1), multicast: false, expect: "drop" },
  { item: 2, name: "header length smaller than the datagram", bytes: patch(base, 4, base.length - 1), multicast: false, expect: "drop" },
  { item: 2, name: "header length 0xFFFFFF", bytes: patch(base, 2, 0xff, 0xff, 0xff), multicast: false, expect: "drop" },
  // 3. version, function, flags
  { item: 3, name: "version 1 header (SLPv1)", bytes: patch(base, 0, 1), multicast: false, expect: "drop" },
  { item: 3, name: "version 3", bytes: patch(base, 0, 3), multicast: false, expect: "drop" },
  { item: 3, name: "function 0", bytes: patch(base, 1, 0), multicast: false, expect: "drop" },
  { item: 3, name: "function 12", bytes: patch(base, 1, 12), multicast: false, expect: "drop" },
  { item: 3, name: "function 255", bytes: patch(base, 1, 255), multicast: false, expect: "drop" },
  { item: 3, name: "reserved flag bit", bytes: patch(base, 6, 0x01), multicast: false, expect: "drop" },
  { item: 3, name: "FRESH flag on a request", bytes: patch(base, 5, 0x40), multicast: false, expect: "drop" },
  // 4. extensions
  { item: 4, name: "extension offset into the header", bytes: patch(base, 7, 0, 0, 5), multicast: false, expect: "drop" },
  { item: 4, name: "extension offset at the length", bytes: patch(base, 7, 0, 0, base.length), multicast: false, expect: "drop" },
  { item: 4, name: "extension offset overlapping the body", bytes: patch(base, 7, 0, 0, 30), multicast: false, expect: "drop" },
  { item: 4, name: "extension pointing to itself", bytes: withExtensions([{ id: 1, next: base.length }]), multicast: false, expect: "drop" },
  { item: 4, name: "extension loop A→B→A", bytes: withExtensions([{ id: 1, next: base.length + 5 }, { id: 1, next: base.length }]), multicast: false, expect: "drop" },
  { item: 4, name: "extension next past the end", bytes: withExtensions([{ id: 1, next: 0xffffff }]), multicast: false, expect: "drop" },
  { item: 4, name: "unknown mandatory extension, unicast", bytes: withExtensions([{ id: 0x4001, next: 0 }]), multicast: false, expect: { error: 12 } },
  { item: 4, name: "unknown mandatory extension, multicast", bytes: patch(withExtensions([{ id: 0x4001, next: 0 }]), 5, 0x20), multicast: true, expect: "drop" },
  // 5. predicates (any error: no match; unicast gets 0 URLs with error 0, like OpenSLP)
  { item: 5, name: "predicate nested 300 deep", bytes: srvRqst({ predicate: `${"(&".repeat(299)}(x=1)${")".repeat(299)}` }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate unbalanced", bytes: srvRqst({ predicate: "(&(x=1)" }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate bad escape", bytes: srvRqst({ predicate: "(x=\\zz)" }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate \\FF opaque junk", bytes: srvRqst({ predicate: "(x=\\FF\\zz)" }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate 1300 bytes", bytes: srvRqst({ predicate: `(x=${"a".repeat(1300)})` }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate all white space (matches all)", bytes: srvRqst({ predicate: "     " }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate trailing white space", bytes: srvRqst({ predicate: "(Namespace=lsi/lsimr13)   " }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "predicate with embedded NUL", bytes: srvRqst({ predicate: "(x=a\u0000b)" }), multicast: false, expect: { error: 0 } },
  { item: 5, name: "bad predicate, multicast", bytes: srvRqst({ flags: MCAST, predicate: "(x=" }), multicast: true, expect: "drop" },
  // 6. PRList
  { item: 6, name: "PRList of 1300 commas", bytes: srvRqst({ prList: ",".repeat(1300) }), multicast: false, expect: { error: 0 } },
  { item: 6, name: "PRList of non-IP entries", bytes: srvRqst({ prList: "foo,bar,::1,999.1.1.1,1.2.3" }), multicast: false, expect: { error: 0 } },
  { item: 6, name: "PRList with our address at the end", bytes: srvRqst({ flags: MCAST, prList: `${"10.9.9.9,".repeat(100)}127.0.0.1` }), multicast: true, expect: "drop" },
  // 7. SPI
  { item: 7, name: "SPI present, unicast", bytes: srvRqst({ spi: "spi-x" }), multicast: false, expect: { error: 5 } },
  { item: 7, name: "SPI present, multicast", bytes: srvRqst({ flags: MCAST, spi: "spi-x" }), multicast: true, expect: "drop" },
  { item: 7, name: "AttrRqst SPI present, unicast", bytes: attrRqst({ spi: "spi-x" }), multicast: false, expect: { error: 5 } },
  // 8. registrations, DA messages and replies arriving on 427: dropped, body never parsed
  { item: 8, name: "SrvReg with a huge auth block (CVE-2019-5544 shape)", bytes: raw(3, Uint8Array.from([0, 0xff, 0xff, 0, 5, 0x73, 0x3a, 0x2f, 0x2f, 0x61, 1, ...AUTH_BLOCK_HUGE])), multicast: false, expect: "drop" },
  { item: 8, name: "SrvReg garbage body", bytes: raw(3, new Uint8Array(64).fill(0xff), 0x4000), multicast: false, expect: "drop" },
  { item: 8, name: "SrvDeReg", bytes: raw(4, new Uint8Array(20)), multicast: false, expect: "drop" },
  { item: 8, name: "SrvAck", bytes: raw(5, new Uint8Array(2)), multicast: false, expect: "drop" },
  { item: 8, name: "DAAdvert with an http:// URL (CVE-2020-3992 shape)", bytes: raw(8, Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 8, ...Buffer.from("http://x"), 0, 0, 0, 0, 0, 0, 0])), multicast: false, expect: "drop" },
  { item: 8, name: "SAAdvert", bytes: raw(11, new Uint8Array(10)), multicast: false, expect: "drop" },
  { item: 8, name: "SrvRply", bytes: raw(2, new Uint8Array(4)), multicast: false, expect: "drop" },
  { item: 8, name: "AttrRply", bytes: raw(7, new Uint8Array(5)), multicast: false, expect: "drop" },
  { item: 8, name: "SrvTypeRply", bytes: raw(10, new Uint8Array(4)), multicast: false, expect: "drop" },
  // never a DA
  { item: 8, name: "DA discovery (service:directory-agent), multicast", bytes: srvRqst({ flags: MCAST, type: "service:directory-agent", scopes: "" }), multicast: true, expect: "drop" },
  { item: 8, name: "DA discovery, unicast", bytes: srvRqst({ type: "service:directory-agent" }), multicast: false, expect: "drop" },
];
