// The request handler: one datagram (or one TCP-framed message) in, a reply or a drop out.
// Pure and synchronous, so the fuzzer drives exactly what the sockets drive.
//
// Order of checks (cheapest and most dangerous first): version, function ID — anything but
// SrvRqst/AttrRqst/SrvTypeRqst is dropped before its body is looked at (SrvReg, SrvDeReg,
// DAAdvert and every reply type: CVE-2019-5544, 2020-3992, 2021-21974, 2023-29552) — header
// framing, body, extensions, previous responders, SPI, scopes, then matching.
// Each request type is then answered by its answer-*.ts; outcome.ts builds the bytes.
import { SlpDecodeError } from "../errors.ts";
import { answerAttrRqst } from "./answer-attr-rqst.ts";
import { answerSrvRqst } from "./answer-srv-rqst.ts";
import { answerSrvTypeRqst } from "./answer-srv-type-rqst.ts";
import { drop, type HandlerState, type Outcome, refuse, type RequestContext } from "./outcome.ts";
import {
  type AttrRqst,
  decodeBody,
  decodeHeader,
  FunctionId,
  functionName,
  HeaderFlags,
  isMandatoryExtension,
  SLP_VERSION,
  SlpErrorCode,
  type SlpHeader,
  type SrvRqst,
  type SrvTypeRqst,
} from "./wire/index.ts";

export type { HandlerState, Outcome, RequestContext };

export const UDP_MAX_REPLY = 1400;
export const TCP_MAX_REPLY = 8192;

const REQUESTS = new Set<number>([FunctionId.SrvRqst, FunctionId.AttrRqst, FunctionId.SrvTypeRqst]);
const LANG_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

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
      return answerSrvRqst(h, body as SrvRqst, mctx, state);
    case FunctionId.AttrRqst:
      return answerAttrRqst(h, body as AttrRqst, mctx, state);
    default:
      return answerSrvTypeRqst(h, body as SrvTypeRqst, mctx, state);
  }
}
