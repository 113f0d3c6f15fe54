// What the request handler produces (a reply's bytes or a reasoned drop), what it is given,
// and the reply builders the per-request answers share.
import type { ServiceEntry } from "./entries.ts";
import type { PredicateCache } from "./predicate.ts";
import { FunctionId, REPLY_FOR, SLP_VERSION, type SlpHeader } from "./wire/index.ts";

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

export function drop(reason: string, requestFunction?: number, detail?: string): Outcome {
  return { kind: "drop", reason, requestFunction, detail };
}

/** Writes a reply header + body produced by `writeBody` into an exact-size buffer. */
export function buildReply(h: SlpHeader, replyFn: number, flags: number, bodyLength: number, writeBody: (out: Uint8Array, o: number) => void): Uint8Array {
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
export function refuse(h: SlpHeader, ctx: RequestContext, errorCode: number, reason: string, detail?: string): Outcome {
  return ctx.multicast ? drop(reason, h.functionId, detail) : errorReply(h, errorCode);
}

/** How many of `items`, comma-joined, fit in `room` bytes (whole items only), and the bytes they take. */
export function fitCommaList(items: readonly string[], room: number): { count: number; listLength: number } {
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
export function writeListBody(out: Uint8Array, o: number, list: string, listLength: number): void {
  out[o] = 0;
  out[o + 1] = 0;
  out[o + 2] = listLength >>> 8;
  out[o + 3] = listLength & 0xff;
  Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(list, o + 4, "utf8");
}
