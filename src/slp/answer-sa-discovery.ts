// SA discovery: a SrvRqst for service:service-agent, answered with an SAAdvert naming the
// address the request arrived on, our scopes and the service types we advertise.
import { SlpSyntaxError } from "../errors.ts";
import { foldString, serializeAttrList } from "./attributes.ts";
import { distinctTypes, entriesInScope, requestScopes } from "./entries.ts";
import { buildReply, drop, type HandlerState, type Outcome, type RequestContext } from "./outcome.ts";
import { evaluate, indexAttributes } from "./predicate.ts";
import { FunctionId, type SlpHeader, type SrvRqst, saAdvert } from "./wire/index.ts";

export function answerSaDiscovery(h: SlpHeader, b: SrvRqst, ctx: RequestContext, state: HandlerState): Outcome {
  // RFC 2608 §8.6: SAs answer only multicast SA discovery, with no scope list or a matching one.
  if (!ctx.multicast) return drop("sa-discovery-unicast", h.functionId);
  if (state.entries.length === 0) return drop("no-match", h.functionId);
  const scopes = requestScopes(b.scopeList);
  if (scopes.length > 0 && entriesInScope(scopes, state.entries).length === 0) return drop("scope", h.functionId);
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
