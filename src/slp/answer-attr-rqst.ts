// AttrRqst: the attributes of one service (by URL) or of every service of a type, filtered
// by the request's tag list, cut at an attribute boundary when they overflow.
import { SlpSyntaxError } from "../errors.ts";
import { compileTagList, mergeAttributes, serializeAttrList } from "./attributes.ts";
import { entriesInScope, requestScopes, typeMatches } from "./entries.ts";
import { buildReply, drop, fitCommaList, type HandlerState, type Outcome, refuse, type RequestContext, writeListBody } from "./outcome.ts";
import { type AttrRqst, FunctionId, HeaderFlags, SlpErrorCode, type SlpHeader } from "./wire/index.ts";

export function answerAttrRqst(h: SlpHeader, b: AttrRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const target = b.url.trim();
  if (target.length === 0) return refuse(h, ctx, SlpErrorCode.PARSE_ERROR, "parse-error", "empty URL");
  const scopes = requestScopes(b.scopeList);
  const scoped = entriesInScope(scopes, state.entries);
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
