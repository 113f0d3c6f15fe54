// SA discovery: a SrvRqst for service:service-agent, answered with an SAAdvert naming the
// address the request arrived on, our scopes and the service types we advertise.
// RFC 2608 §8.6 has an SA that receives this request reply unless the request's scope list
// misses all of its scopes; it does not say "multicast only", and OpenSLP's slpd answers a
// unicast one too (a UA given one agent's address asks it which scopes it serves). Unicast
// failures get a SrvRply (error 4 for scopes we do not serve, error 0 and no URLs for an
// unmet predicate), as for any unicast SrvRqst; multicast failures get silence (§7).
import { SlpSyntaxError } from "../errors.ts";
import { foldString, serializeAttrList } from "./attributes.ts";
import { distinctTypes, entriesInScope, requestScopes } from "./entries.ts";
import { buildReply, drop, type HandlerState, type Outcome, refuse, type RequestContext } from "./outcome.ts";
import { evaluate, indexAttributes } from "./predicate.ts";
import { FunctionId, SlpErrorCode, type SlpHeader, type SrvRqst, saAdvert } from "./wire/index.ts";

export function answerSaDiscovery(h: SlpHeader, b: SrvRqst, ctx: RequestContext, state: HandlerState): Outcome {
  if (state.entries.length === 0) return ctx.multicast ? drop("no-match", h.functionId) : refuse(h, ctx, SlpErrorCode.SCOPE_NOT_SUPPORTED, "scope");
  // An empty scope list asks every SA (§8.6); a list must name one of ours.
  const scopes = requestScopes(b.scopeList);
  if (scopes.length > 0 && entriesInScope(scopes, state.entries).length === 0) return refuse(h, ctx, SlpErrorCode.SCOPE_NOT_SUPPORTED, "scope");
  const types = distinctTypes(state.entries);
  const saAttrs = [{ tag: "service-type", values: types }];
  const filter = state.predicates.get(b.predicate);
  if (filter instanceof SlpSyntaxError) return refuse(h, ctx, 0, "predicate", filter.message);
  if (filter !== null && !evaluate(filter, indexAttributes(saAttrs))) return refuse(h, ctx, 0, "no-match");
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
