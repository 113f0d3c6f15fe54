// SrvTypeRqst: the service types we advertise in the request's scopes, optionally only those
// of one naming authority.
import { foldString } from "./attributes.ts";
import { distinctTypes, entriesInScope, requestScopes } from "./entries.ts";
import { buildReply, drop, fitCommaList, type HandlerState, type Outcome, refuse, type RequestContext, writeListBody } from "./outcome.ts";
import { FunctionId, HeaderFlags, SlpErrorCode, type SlpHeader, type SrvTypeRqst } from "./wire/index.ts";

export function answerSrvTypeRqst(h: SlpHeader, b: SrvTypeRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const scopes = requestScopes(b.scopeList);
  const scoped = entriesInScope(scopes, state.entries);
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
