// An SLPv2 user agent: what MSM / LSI Storage Authority (libslp) do on the wire, so an
// engineer can see from the jump host what they would see. Multicast requests use
// convergence (RFC 2608 §6.3): the same XID is retransmitted with every responder's source
// address added to the PRList, until a round brings no new responder or time runs out.
// Unicast requests retry with the same XID; an overflowed reply is fetched again over TCP.
import { randomInt } from "node:crypto";
import { ConnectError, DeadlineError, SlpDecodeError, SlpReplyError } from "../errors.ts";
import { type Attribute, parseAttrList } from "./attributes.ts";
import { SLP_MULTICAST_GROUP, SLP_PORT } from "./net.ts";
import { decodeHeader, errorCodeName, FunctionId, HeaderFlags, message, type SlpMessage } from "./wire/index.ts";

export interface UaOptions {
  /** Ask this address only (unicast); otherwise multicast to 239.255.255.253. */
  unicast?: string;
  port?: number;
  scopes?: string[];
  langTag?: string;
  /** Total time to wait for replies. */
  timeoutMs?: number;
  /** Local address to send multicast from (and bind to). */
  interfaceAddress?: string;
  /** Multicast TTL (RFC 2608 default 255; 1 keeps the query on the local link). */
  ttl?: number;
  /** Refetch an overflowed reply over TCP (default true). */
  tcpFallback?: boolean;
}

export interface FoundService {
  url: string;
  /** Seconds; 0 for an SAAdvert, which carries none. */
  lifetime: number;
  /** Source address of the reply that carried it. */
  responder: string;
  /** SA discovery (service:service-agent) answers with SAAdverts: the agent's scopes and attributes. */
  scopes?: string;
  attrList?: string;
}

export interface FoundAttributes {
  responder: string;
  /** The list exactly as received (escaped). */
  attrList: string;
  attributes: Attribute[];
  /** The reply had the overflow flag and no TCP refetch succeeded. */
  truncated: boolean;
}

export interface ResponderError {
  responder: string;
  errorCode: number;
}

interface Reply {
  source: string;
  port: number;
  msg: SlpMessage;
  truncated: boolean;
}

const MAX_DATAGRAM = 1400;
const MAX_TCP_REPLY = 65_536;

function newXid(): number {
  return randomInt(1, 0x10000);
}

/** Sends `build(prList)` and collects replies with the request's XID and one of the expected functions. */
async function transact(opts: UaOptions, xid: number, replyFns: readonly number[], build: (prList: string) => Uint8Array): Promise<Reply[]> {
  const port = opts.port ?? SLP_PORT;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const replies = new Map<string, Reply>();
  const multicast = opts.unicast === undefined;
  let newSinceSend = 0;
  let wake: (() => void) | undefined;
  let refused = false;

  const sock = await Bun.udpSocket({
    hostname: opts.interfaceAddress ?? "0.0.0.0",
    port: 0,
    socket: {
      data(_s, data, rport, address) {
        let msg: SlpMessage;
        try {
          const h = decodeHeader(data);
          if (h.xid !== xid || !replyFns.includes(h.functionId)) return;
          msg = message.decode(data);
        } catch (err) {
          if (err instanceof SlpDecodeError) return; // not ours, or broken: ignore like libslp does
          throw err;
        }
        if (replies.has(address)) return;
        replies.set(address, { source: address, port: rport, msg, truncated: ((msg.flags ?? 0) & HeaderFlags.Overflow) !== 0 });
        newSinceSend++;
        if (!multicast) wake?.();
      },
      // ICMP port unreachable comes back as ECONNREFUSED on a unicast query: nothing listens.
      error(err: unknown) {
        if (!multicast && (err as NodeJS.ErrnoException | undefined)?.code === "ECONNREFUSED") {
          refused = true;
          wake?.();
        }
      },
    },
  });
  try {
    if (multicast) {
      if (opts.interfaceAddress) sock.setMulticastInterface(opts.interfaceAddress);
      sock.setMulticastTTL(opts.ttl ?? 255);
    }
    const deadline = Date.now() + timeoutMs;
    let wait = multicast ? 250 : 500;
    for (;;) {
      const prList = [...replies.keys()].join(",");
      const bytes = build(prList);
      // Convergence stops once the PRList makes the request too big for a datagram (§8.1).
      if (bytes.length > MAX_DATAGRAM) break;
      newSinceSend = 0;
      sock.send(bytes, port, multicast ? SLP_MULTICAST_GROUP : opts.unicast!);
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(wait, left));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
      if (!multicast && (replies.size > 0 || refused)) break;
      if (multicast && replies.size > 0 && newSinceSend === 0) break;
      if (Date.now() >= deadline) break;
      wait *= 2;
    }
  } finally {
    sock.close();
  }
  const out = [...replies.values()];
  if (!multicast && out.length === 0) {
    if (refused) throw new ConnectError(`SLP request to ${opts.unicast}:${port}: refused (nothing listens on UDP ${port} there)`);
    throw new DeadlineError(`SLP request to ${opts.unicast}:${port}`, timeoutMs);
  }
  return out;
}

/** Fetches the reply to `request` over TCP (RFC 2608 §6.2), same XID, one message. */
export async function tcpRequest(address: string, port: number, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  return await new Promise<Uint8Array>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, value?: Uint8Array) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new DeadlineError(`SLP TCP request to ${address}:${port}`, timeoutMs)), timeoutMs);
    Bun.connect({
      hostname: address,
      port,
      socket: {
        open(s) {
          s.write(request);
        },
        data(s, d) {
          chunks.push(d);
          length += d.length;
          if (length >= 5) {
            const all = Buffer.concat(chunks);
            const want = (all[2]! << 16) | (all[3]! << 8) | all[4]!;
            // Settle before end(): closing runs the close handler synchronously.
            if (want > MAX_TCP_REPLY) {
              finish(new SlpDecodeError("too-large", `TCP reply of ${want} bytes exceeds ${MAX_TCP_REPLY}`));
              s.end();
            } else if (length >= want) {
              finish(undefined, all.subarray(0, want));
              s.end();
            }
          }
        },
        close() {
          finish(new SlpDecodeError("truncated", `TCP connection to ${address}:${port} closed before a whole reply arrived`));
        },
        error(_s, err) {
          finish(err);
        },
        connectError(_s, err) {
          finish(err);
        },
      },
    }).catch((err: Error) => finish(err));
  });
}

async function refetchOverTcp(r: Reply, request: Uint8Array, opts: UaOptions, replyFns: readonly number[]): Promise<Reply> {
  if (!r.truncated || opts.tcpFallback === false) return r;
  try {
    const bytes = await tcpRequest(r.source, opts.port ?? SLP_PORT, request, opts.timeoutMs ?? 3000);
    const msg = message.decode(bytes);
    if (!replyFns.includes(msg.functionId) || msg.xid !== r.msg.xid) return r;
    return { ...r, msg, truncated: false };
  } catch {
    return r;
  }
}

function baseMessage(opts: UaOptions, xid: number, mcast: boolean) {
  return { xid, langTag: opts.langTag ?? "en", flags: mcast ? HeaderFlags.RequestMcast : 0 };
}

/** A unicast query that got error replies and nothing else fails with the first error. */
function throwIfOnlyErrors(opts: UaOptions, errors: readonly ResponderError[], found: number): void {
  const e = errors[0];
  if (opts.unicast !== undefined && e !== undefined && found === 0) {
    throw new SlpReplyError(e.errorCode, `${e.responder} answered ${errorCodeName(e.errorCode)}`);
  }
}

export async function findServices(serviceType: string, opts: UaOptions = {}, predicate = ""): Promise<{ services: FoundService[]; errors: ResponderError[] }> {
  const xid = newXid();
  const scopeList = (opts.scopes ?? ["DEFAULT"]).join(",");
  const mcast = opts.unicast === undefined;
  const build = (prList: string, m = mcast) =>
    message.encode({ ...baseMessage(opts, xid, m), functionId: FunctionId.SrvRqst, body: { prList, serviceType, scopeList, predicate, spi: "" } });
  // SA discovery is answered with SAAdverts (RFC 2608 §8.6), its errors with SrvRplys.
  const replyFns = serviceType.trim().toLowerCase() === "service:service-agent" ? [FunctionId.SrvRply, FunctionId.SAAdvert] : [FunctionId.SrvRply];
  const replies = await transact(opts, xid, replyFns, build);
  const services: FoundService[] = [];
  const errors: ResponderError[] = [];
  for (let r of replies) {
    r = await refetchOverTcp(r, build("", false), { ...opts, unicast: r.source }, replyFns);
    if (r.msg.functionId === FunctionId.SAAdvert) {
      const b = r.msg.body;
      services.push({ url: b.url, lifetime: 0, responder: r.source, scopes: b.scopeList, attrList: b.attrList });
      continue;
    }
    if (r.msg.functionId !== FunctionId.SrvRply) continue;
    if (r.msg.body.errorCode !== 0) errors.push({ responder: r.source, errorCode: r.msg.body.errorCode });
    for (const u of r.msg.body.urls) services.push({ url: u.url, lifetime: u.lifetime, responder: r.source });
  }
  throwIfOnlyErrors(opts, errors, services.length);
  return { services, errors };
}

export async function findAttributes(urlOrType: string, opts: UaOptions = {}, tagList = ""): Promise<{ results: FoundAttributes[]; errors: ResponderError[] }> {
  const xid = newXid();
  const scopeList = (opts.scopes ?? ["DEFAULT"]).join(",");
  const mcast = opts.unicast === undefined;
  const build = (prList: string, m = mcast) =>
    message.encode({ ...baseMessage(opts, xid, m), functionId: FunctionId.AttrRqst, body: { prList, url: urlOrType, scopeList, tagList, spi: "" } });
  const replies = await transact(opts, xid, [FunctionId.AttrRply], build);
  const results: FoundAttributes[] = [];
  const errors: ResponderError[] = [];
  for (let r of replies) {
    r = await refetchOverTcp(r, build("", false), { ...opts, unicast: r.source }, [FunctionId.AttrRply]);
    if (r.msg.functionId !== FunctionId.AttrRply) continue;
    const b = r.msg.body;
    if (b.errorCode !== 0) {
      errors.push({ responder: r.source, errorCode: b.errorCode });
      continue;
    }
    let attributes: Attribute[];
    try {
      attributes = parseAttrList(b.attrList);
    } catch {
      // Real agents (sfcb) send unescaped lists; show what can be read.
      attributes = parseAttrList(b.attrList, { lenient: true });
    }
    results.push({ responder: r.source, attrList: b.attrList, attributes, truncated: r.truncated });
  }
  throwIfOnlyErrors(opts, errors, results.length);
  return { results, errors };
}

/** The text `esxkit slp attrs --save` writes and `attributes_file` reads. */
export function formatSavedAttributes(target: string, results: readonly FoundAttributes[], now = new Date()): string {
  const lines = [`# esxkit slp attrs ${target} — ${now.toISOString()}`];
  for (const r of results) {
    lines.push(`# from ${r.responder}${r.truncated ? " (truncated: the reply overflowed one datagram)" : ""}`);
    lines.push(r.attrList);
  }
  return `${lines.join("\n")}\n`;
}
