// The request handler: one datagram (or one TCP-framed message) in, a reply or a drop out.
// Pure and synchronous, so the fuzzer drives exactly what the sockets drive.
//
// Order of checks (cheapest and most dangerous first): version, function ID — anything but
// SrvRqst/AttrRqst/SrvTypeRqst is dropped before its body is looked at (SrvReg, SrvDeReg,
// DAAdvert and every reply type: CVE-2019-5544, 2020-3992, 2021-21974, 2023-29552) — header
// framing, body, extensions, previous responders, SPI, scopes, then matching.
import { SlpDecodeError, SlpSyntaxError } from "../errors.ts";
import { compileTagList, foldString, mergeAttributes, serializeAttrList } from "./attributes.ts";
import { type ServiceEntry, requestScopes, scopeMatches, typeMatches } from "./entries.ts";
import { evaluate, indexAttributes, type PredicateCache } from "./predicate.ts";
import {
  type AttrRqst,
  decodeBody,
  decodeHeader,
  FunctionId,
  functionName,
  HeaderFlags,
  isMandatoryExtension,
  REPLY_FOR,
  SLP_VERSION,
  SlpErrorCode,
  type SlpHeader,
  type SrvRqst,
  type SrvTypeRqst,
  saAdvert,
} from "./wire/index.ts";

export const UDP_MAX_REPLY = 1400;
export const TCP_MAX_REPLY = 8192;

export interface RequestContext {
  /** Where the request came from (replies go back there). */
  sourceAddress: string;
  /** The local address the request arrived on: replies leave from it, SAAdverts name it. */
  localAddress: string;
  /** Arrived on the multicast group socket (or with the R flag): no errors, no empty replies. */
  multicast: boolean;
  /** 1400 for UDP, a larger cap for TCP. */
  maxReplyBytes: number;
}

export interface HandlerState {
  /** Entries visible to this request (its interface, its source). */
  entries: readonly ServiceEntry[];
  /** Every address of this host: a request naming any of them in its PRList is not ours to answer. */
  isSelf: (address: string) => boolean;
  predicates: PredicateCache;
}

export type Outcome =
  | {
      kind: "reply";
      bytes: Uint8Array;
      requestFunction: number;
      replyFunction: number;
      xid: number;
      errorCode: number;
      truncated: boolean;
      /** Entries whose data went into the reply. */
      entries: ServiceEntry[];
    }
  | { kind: "drop"; reason: string; requestFunction?: number; detail?: string };

const REQUESTS = new Set<number>([FunctionId.SrvRqst, FunctionId.AttrRqst, FunctionId.SrvTypeRqst]);
const LANG_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

function drop(reason: string, requestFunction?: number, detail?: string): Outcome {
  return { kind: "drop", reason, requestFunction, detail };
}

/** Writes a reply header + body produced by `writeBody` into an exact-size buffer. */
function buildReply(h: SlpHeader, replyFn: number, flags: number, bodyLength: number, writeBody: (out: Uint8Array, o: number) => void): Uint8Array {
  const lang = h.langTag;
  const hLen = 14 + lang.length;
  const total = hLen + bodyLength;
  const out = Buffer.allocUnsafe(total);
  out[0] = SLP_VERSION;
  out[1] = replyFn;
  out[2] = (total >>> 16) & 0xff;
  out[3] = (total >>> 8) & 0xff;
  out[4] = total & 0xff;
  out[5] = (flags >>> 8) & 0xff;
  out[6] = flags & 0xff;
  out[7] = 0;
  out[8] = 0;
  out[9] = 0;
  out[10] = (h.xid >>> 8) & 0xff;
  out[11] = h.xid & 0xff;
  out[12] = (lang.length >>> 8) & 0xff;
  out[13] = lang.length & 0xff;
  for (let i = 0; i < lang.length; i++) out[14 + i] = lang.charCodeAt(i);
  writeBody(out, hLen);
  return out;
}

/** A reply carrying only an error code (RFC 2608 §7: the rest MAY be truncated), in each reply's shape. */
function errorReply(h: SlpHeader, errorCode: number): Outcome {
  const replyFn = REPLY_FOR[h.functionId]!;
  // SrvRply: error + 0 URLs; AttrRply: error + empty list + 0 auths; SrvTypeRply: error + empty list.
  const bodyLength = replyFn === FunctionId.AttrRply ? 5 : 4;
  const bytes = buildReply(h, replyFn, 0, bodyLength, (out, o) => {
    out[o] = errorCode >>> 8;
    out[o + 1] = errorCode & 0xff;
    out.fill(0, o + 2, o + bodyLength);
  });
  return { kind: "reply", bytes, requestFunction: h.functionId, replyFunction: replyFn, xid: h.xid, errorCode, truncated: false, entries: [] };
}

/** Unicast gets an error reply; multicast gets silence (RFC 2608 §7). */
function refuse(h: SlpHeader, ctx: RequestContext, errorCode: number, reason: string, detail?: string): Outcome {
  return ctx.multicast ? drop(reason, h.functionId, detail) : errorReply(h, errorCode);
}

function inPrList(prList: string, isSelf: (a: string) => boolean): boolean {
  if (prList.length === 0) return false;
  // O(n) over the list; entries that are not dotted IPv4 simply never equal one of ours.
  let start = 0;
  while (start <= prList.length) {
    let end = prList.indexOf(",", start);
    if (end < 0) end = prList.length;
    const item = prList.slice(start, end).trim();
    if (item.length >= 7 && item.length <= 15 && isSelf(item)) return true;
    start = end + 1;
  }
  return false;
}

export function handleRequest(buf: Uint8Array, ctx: RequestContext, state: HandlerState): Outcome {
  if (buf.length < 1) return drop("short");
  if (buf[0] !== SLP_VERSION) return drop("version", undefined, `version ${buf[0]}`);
  if (buf.length < 2) return drop("short");
  const fn = buf[1]!;
  if (!REQUESTS.has(fn)) return drop(fn >= 1 && fn <= 11 ? "refused-function" : "unknown-function", fn, functionName(fn));

  let h: SlpHeader;
  try {
    h = decodeHeader(buf);
  } catch (err) {
    if (err instanceof SlpDecodeError) return drop(err.reason === "truncated" || err.reason === "string-overflow" ? "short" : err.reason, fn, err.message);
    throw err;
  }
  if (h.flags & HeaderFlags.Fresh || h.flags & HeaderFlags.Overflow) return drop("flags", fn, "FRESH or OVERFLOW set on a request");
  if (!LANG_TAG.test(h.langTag)) return drop("langtag", fn, `language tag ${JSON.stringify(h.langTag.slice(0, 20))}`);
  const mctx: RequestContext = h.flags & HeaderFlags.RequestMcast && !ctx.multicast ? { ...ctx, multicast: true } : ctx;

  let body: SrvRqst | AttrRqst | SrvTypeRqst;
  let extensionIds: number[];
  try {
    const d = decodeBody(h, buf);
    body = d.body as SrvRqst | AttrRqst | SrvTypeRqst;
    extensionIds = d.extensions.map((e) => e.id);
  } catch (err) {
    if (!(err instanceof SlpDecodeError)) throw err;
    if (err.reason === "ext-loop" || err.reason === "ext-offset") return drop(err.reason, fn, err.message);
    return refuse(h, mctx, SlpErrorCode.PARSE_ERROR, "parse-error", err.message);
  }
  if (inPrList(body.prList, state.isSelf)) return drop("prlist-self", fn);
  if (extensionIds.some(isMandatoryExtension)) return refuse(h, mctx, SlpErrorCode.OPTION_NOT_UNDERSTOOD, "mandatory-extension");
  if ("spi" in body && body.spi.length > 0) return refuse(h, mctx, SlpErrorCode.AUTHENTICATION_UNKNOWN, "spi");

  switch (fn) {
    case FunctionId.SrvRqst:
      return srvRqst(h, body as SrvRqst, mctx, state);
    case FunctionId.AttrRqst:
      return attrRqst(h, body as AttrRqst, mctx, state);
    default:
      return srvTypeRqst(h, body as SrvTypeRqst, mctx, state);
  }
}

function inScope(scopes: string[], state: HandlerState): ServiceEntry[] {
  return state.entries.filter((e) => scopeMatches(scopes, e));
}

function srvRqst(h: SlpHeader, b: SrvRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const type = b.serviceType.trim().toLowerCase();
  if (type.length === 0) return refuse(h, ctx, SlpErrorCode.PARSE_ERROR, "parse-error", "empty service type");
  if (type === "service:directory-agent") return drop("da-discovery", h.functionId);
  if (type === "service:service-agent") return saDiscovery(h, b, ctx, state);

  const scopes = requestScopes(b.scopeList);
  const scoped = inScope(scopes, state);
  if (scoped.length === 0) return refuse(h, ctx, SlpErrorCode.SCOPE_NOT_SUPPORTED, "scope");

  const filter = state.predicates.get(b.predicate);
  if (filter instanceof SlpSyntaxError) {
    // OpenSLP answers a malformed filter with error 0 and no URLs; UAs expect that.
    return ctx.multicast ? drop("predicate", h.functionId, filter.message) : srvRply(h, [], ctx);
  }
  const matched = scoped.filter((e) => typeMatches(type, e) && (filter === null || evaluate(filter, e.attrIndex)));
  if (matched.length === 0 && ctx.multicast) return drop("no-match", h.functionId);
  return srvRply(h, matched, ctx);
}

function srvRply(h: SlpHeader, matched: ServiceEntry[], ctx: RequestContext): Outcome {
  const hLen = 14 + h.langTag.length;
  let room = ctx.maxReplyBytes - hLen - 4;
  const included: ServiceEntry[] = [];
  for (const e of matched) {
    // Whole URL entries only (RFC 2608 §8.2).
    if (e.urlEntryBytes.length > room) break;
    included.push(e);
    room -= e.urlEntryBytes.length;
  }
  const truncated = included.length < matched.length;
  if (ctx.multicast && matched.length > 0 && included.length === 0) return drop("too-large", h.functionId);
  const bodyLength = 4 + included.reduce((n, e) => n + e.urlEntryBytes.length, 0);
  const bytes = buildReply(h, FunctionId.SrvRply, truncated ? HeaderFlags.Overflow : 0, bodyLength, (out, o) => {
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = included.length >>> 8;
    out[o + 3] = included.length & 0xff;
    let p = o + 4;
    for (const e of included) {
      out.set(e.urlEntryBytes, p);
      p += e.urlEntryBytes.length;
    }
  });
  return { kind: "reply", bytes, requestFunction: FunctionId.SrvRqst, replyFunction: FunctionId.SrvRply, xid: h.xid, errorCode: 0, truncated, entries: included };
}

function saDiscovery(h: SlpHeader, b: SrvRqst, ctx: RequestContext, state: HandlerState): Outcome {
  // RFC 2608 §8.6: SAs answer only multicast SA discovery, with no scope list or a matching one.
  if (!ctx.multicast) return drop("sa-discovery-unicast", h.functionId);
  if (state.entries.length === 0) return drop("no-match", h.functionId);
  const scopes = requestScopes(b.scopeList);
  if (scopes.length > 0 && inScope(scopes, state).length === 0) return drop("scope", h.functionId);
  const types = distinctTypes(state.entries);
  const saAttrs = [{ tag: "service-type", values: types }];
  const filter = state.predicates.get(b.predicate);
  if (filter instanceof SlpSyntaxError) return drop("predicate", h.functionId, filter.message);
  if (filter !== null && !evaluate(filter, indexAttributes(saAttrs))) return drop("no-match", h.functionId);
  const ourScopes: string[] = [];
  const seen = new Set<string>();
  for (const e of state.entries) {
    for (const s of e.scopeNames) {
      const k = foldString(s);
      if (!seen.has(k)) {
        seen.add(k);
        ourScopes.push(s);
      }
    }
  }
  const body = { url: `service:service-agent://${ctx.localAddress}`, scopeList: ourScopes.join(","), attrList: serializeAttrList(saAttrs) };
  const bodyLength = saAdvert.encodingLength(body);
  if (14 + h.langTag.length + bodyLength > ctx.maxReplyBytes) return drop("too-large", h.functionId);
  const bytes = buildReply(h, FunctionId.SAAdvert, 0, bodyLength, (out, o) => {
    saAdvert.encode(body, out, o);
  });
  return { kind: "reply", bytes, requestFunction: FunctionId.SrvRqst, replyFunction: FunctionId.SAAdvert, xid: h.xid, errorCode: 0, truncated: false, entries: [] };
}

function distinctTypes(entries: readonly ServiceEntry[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (!seen.has(e.typeKey)) {
      seen.add(e.typeKey);
      out.push(e.serviceType);
    }
  }
  return out;
}

/** How many of `items`, comma-joined, fit in `room` bytes (whole items only), and the bytes they take. */
function fitCommaList(items: readonly string[], room: number): { count: number; listLength: number } {
  let listLength = 0;
  let count = 0;
  for (const item of items) {
    const add = (count > 0 ? 1 : 0) + Buffer.byteLength(item);
    if (listLength + add > room) break;
    listLength += add;
    count++;
  }
  return { count, listLength };
}

/** error code 0 | list length(2) | list: the start of AttrRply and SrvTypeRply bodies. */
function writeListBody(out: Uint8Array, o: number, list: string, listLength: number): void {
  out[o] = 0;
  out[o + 1] = 0;
  out[o + 2] = listLength >>> 8;
  out[o + 3] = listLength & 0xff;
  Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(list, o + 4, "utf8");
}

function attrRqst(h: SlpHeader, b: AttrRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const target = b.url.trim();
  if (target.length === 0) return refuse(h, ctx, SlpErrorCode.PARSE_ERROR, "parse-error", "empty URL");
  const scopes = requestScopes(b.scopeList);
  const scoped = inScope(scopes, state);
  if (scoped.length === 0) return refuse(h, ctx, SlpErrorCode.SCOPE_NOT_SUPPORTED, "scope");
  let tagMatch: (tag: string) => boolean;
  try {
    tagMatch = compileTagList(b.tagList);
  } catch (err) {
    if (!(err instanceof SlpSyntaxError)) throw err;
    return refuse(h, ctx, SlpErrorCode.PARSE_ERROR, "parse-error", err.message);
  }
  // A full URL selects one service, compared exactly (RFC 2608 §6.4); a type selects all of its services.
  const matched = target.includes("://") ? scoped.filter((e) => e.url === target) : scoped.filter((e) => typeMatches(target, e));
  if (matched.length === 0 && ctx.multicast) return drop("no-match", h.functionId);

  // Fast path: the whole list of one service, precomputed.
  const only = matched.length === 1 ? matched[0]! : undefined;
  if (only && b.tagList.trim().length === 0 && only.attrListBytes.length + 14 + h.langTag.length + 5 <= ctx.maxReplyBytes) {
    if (only.attrListBytes.length === 0 && ctx.multicast) return drop("no-match", h.functionId);
    const list = only.attrListBytes;
    const bytes = buildReply(h, FunctionId.AttrRply, 0, 5 + list.length, (out, o) => {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = list.length >>> 8;
      out[o + 3] = list.length & 0xff;
      out.set(list, o + 4);
      out[o + 4 + list.length] = 0;
    });
    return { kind: "reply", bytes, requestFunction: FunctionId.AttrRqst, replyFunction: FunctionId.AttrRply, xid: h.xid, errorCode: 0, truncated: false, entries: matched };
  }

  let wire: string[];
  if (matched.length === 1) {
    const e = matched[0]!;
    wire = e.attrWire.filter((_, i) => tagMatch(e.attributes[i]!.tag));
  } else {
    const merged = mergeAttributes(matched.map((e) => e.attributes)).filter((a) => tagMatch(a.tag));
    wire = merged.map((a) => serializeAttrList([a]));
  }
  if (wire.length === 0 && ctx.multicast) return drop("no-match", h.functionId);

  // Whole attributes only; the list is cut at an attribute boundary and O is set.
  const { count, listLength } = fitCommaList(wire, ctx.maxReplyBytes - (14 + h.langTag.length) - 5);
  const truncated = count < wire.length;
  if (ctx.multicast && count === 0) return drop("too-large", h.functionId);
  const list = wire.slice(0, count).join(",");
  const bytes = buildReply(h, FunctionId.AttrRply, truncated ? HeaderFlags.Overflow : 0, 5 + listLength, (out, o) => {
    writeListBody(out, o, list, listLength);
    out[o + 4 + listLength] = 0;
  });
  return { kind: "reply", bytes, requestFunction: FunctionId.AttrRqst, replyFunction: FunctionId.AttrRply, xid: h.xid, errorCode: 0, truncated, entries: matched };
}

function srvTypeRqst(h: SlpHeader, b: SrvTypeRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const scopes = requestScopes(b.scopeList);
  const scoped = inScope(scopes, state);
  if (scoped.length === 0) return refuse(h, ctx, SlpErrorCode.SCOPE_NOT_SUPPORTED, "scope");
  const na = b.namingAuthority === null ? null : foldString(b.namingAuthority);
  const selected = na === null ? scoped : scoped.filter((e) => e.namingAuthority === na);
  const types = distinctTypes(selected);
  if (types.length === 0 && ctx.multicast) return drop("no-match", h.functionId);
  const { count, listLength } = fitCommaList(types, ctx.maxReplyBytes - (14 + h.langTag.length) - 4);
  const truncated = count < types.length;
  const list = types.slice(0, count).join(",");
  const bytes = buildReply(h, FunctionId.SrvTypeRply, truncated ? HeaderFlags.Overflow : 0, 4 + listLength, (out, o) => {
    writeListBody(out, o, list, listLength);
  });
  return { kind: "reply", bytes, requestFunction: FunctionId.SrvTypeRqst, replyFunction: FunctionId.SrvTypeRply, xid: h.xid, errorCode: 0, truncated, entries: selected };
}
