// SrvRqst: the URLs of the services of a type, in the request's scopes, that satisfy its
// predicate. SA discovery (service:service-agent) is answered by answer-sa-discovery.ts.
import { SlpSyntaxError } from "../errors.ts";
import { entriesInScope, requestScopes, type ServiceEntry, typeMatches } from "./entries.ts";
import { answerSaDiscovery } from "./answer-sa-discovery.ts";
import { buildReply, drop, type HandlerState, type Outcome, refuse, type RequestContext } from "./outcome.ts";
import { evaluate } from "./predicate.ts";
import { FunctionId, HeaderFlags, SlpErrorCode, type SlpHeader, type SrvRqst } from "./wire/index.ts";

export function answerSrvRqst(h: SlpHeader, b: SrvRqst, ctx: RequestContext, state: HandlerState): Outcome {
  const type = b.serviceType.trim().toLowerCase();
  if (type.length === 0) return refuse(h, ctx, SlpErrorCode.PARSE_ERROR, "parse-error", "empty service type");
  if (type === "service:directory-agent") return drop("da-discovery", h.functionId);
  if (type === "service:service-agent") return answerSaDiscovery(h, b, ctx, state);

  const scopes = requestScopes(b.scopeList);
  const scoped = entriesInScope(scopes, state.entries);
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
