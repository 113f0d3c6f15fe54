// RMCP+ session establishment, console side: Get Channel Auth Capabilities, Open Session,
// RAKP 1-4, with the 17 → 3 fallback when the BMC does not offer or accept suite 17.
import { DeadlineError, IpmiAuthError, IpmiCompletionError, IpmiDecodeError } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import { PayloadType } from "../codes/auth-types.ts";
import { cipherSuiteById, type CipherSuite } from "../codes/cipher-suites.ts";
import { AppCmd } from "../codes/commands.ts";
import { completionCodeName } from "../codes/completion.ts";
import { NetFn, responseNetFn } from "../codes/netfn.ts";
import { RakpStatus, rakpStatusName } from "../codes/rakp-status.ts";
import { rakpAuth, random, userKey, type RakpContext, type SessionKeys } from "../crypto.ts";
import { sealIpmi15, sealRmcpPlusSessionless } from "../secure.ts";
import { equalBytes, readU32LE } from "../wire/bytes.ts";
import { BMC_SLAVE_ADDRESS, REMOTE_CONSOLE_SWID, ipmiRequestMessage, ipmiResponseMessage, type IpmiResponseMessage } from "../wire/message.ts";
import { openSessionRequest, openSessionResponse } from "../wire/open-session.ts";
import { packet } from "../wire/packet.ts";
import { ROLE_NAME_ONLY_LOOKUP, rakp1, rakp2, rakp3, rakp4 } from "../wire/rakp.ts";
import type { ExchangeOptions, UdpTransport } from "./transport.ts";

export interface SessionParams {
  username: string;
  password: string;
  /** Optional BMC key Kg (two-key login); default Kuid. */
  kg?: string;
  privilege: number;
  retransmitMs: number;
  deadline: number;
  logger: Logger;
}

export interface EstablishedSession {
  suite: CipherSuite;
  consoleId: number;
  bmcId: number;
  keys: SessionKeys;
  bmcGuid: Uint8Array;
}

/** Payload of the first RMCP+ datagram of the expected type in `d`, else undefined. */
function rmcpPlusPayload(d: Uint8Array, payloadType: number): Uint8Array | undefined {
  let p;
  try {
    p = packet.decode(d);
  } catch {
    return undefined;
  }
  if (p.kind !== "rmcp+" || p.session.payloadType !== payloadType || p.session.sessionId !== 0) return undefined;
  return p.session.payload;
}

/** Channel 0x0E = "this channel", bit 7 = ask for IPMI v2.0 extended data. */
const CHANNEL_THIS_V2 = 0x8e;

/**
 * The sessionless Get Channel Authentication Capabilities datagram (v1.5-framed, asking for v2
 * data): the first packet ipmitool sends, and one every BMC answers without credentials.
 */
export function authCapabilitiesRequest(rqSeq: number, privilege: number): Uint8Array {
  const msg = ipmiRequestMessage.encode({
    rsAddr: BMC_SLAVE_ADDRESS,
    netFn: NetFn.app,
    rsLun: 0,
    rqAddr: REMOTE_CONSOLE_SWID,
    rqSeq,
    rqLun: 0,
    cmd: AppCmd.getChannelAuthCapabilities,
    data: new Uint8Array([CHANNEL_THIS_V2, privilege]),
  });
  return sealIpmi15(0, 0, 0, msg);
}

/** The response to authCapabilitiesRequest(rqSeq) in datagram `d` (v1.5 or sessionless RMCP+ framed), else undefined. */
export function authCapabilitiesResponse(d: Uint8Array, rqSeq: number): IpmiResponseMessage | undefined {
  let p;
  try {
    p = packet.decode(d);
  } catch {
    return undefined;
  }
  const payload = p.kind === "ipmi15" ? p.session.payload : p.kind === "rmcp+" && p.session.sessionId === 0 ? p.session.payload : undefined;
  if (!payload) return undefined;
  try {
    const r = ipmiResponseMessage.decode(payload);
    // netFn: a request echoed back decodes as a "response" with the same cmd and rqSeq.
    return r.netFn === responseNetFn(NetFn.app) && r.cmd === AppCmd.getChannelAuthCapabilities && r.rqSeq === rqSeq ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Get Channel Authentication Capabilities; fails unless the BMC offers IPMI v2.0 / RMCP+. */
export async function getAuthCapabilities(t: UdpTransport, privilege: number, retransmitMs: number, deadline: number): Promise<Uint8Array> {
  const rqSeq = 1;
  const datagram = authCapabilitiesRequest(rqSeq, privilege);
  const resp = await t.exchange(() => datagram, (d) => authCapabilitiesResponse(d, rqSeq), {
    retransmitMs,
    deadline,
    what: "Get Channel Authentication Capabilities",
  });
  if (resp.cc !== 0) throw new IpmiCompletionError(resp.cc, `Get Channel Authentication Capabilities: ${completionCodeName(resp.cc)}`);
  if (resp.data.length < 8) throw new IpmiDecodeError(`Get Channel Authentication Capabilities: reply has ${resp.data.length} bytes, want 8`);
  if ((resp.data[1]! & 0x80) === 0 || (resp.data[3]! & 0x02) === 0) {
    throw new IpmiAuthError("the BMC does not support IPMI v2.0 / RMCP+ on this channel");
  }
  return resp.data;
}

/**
 * Sends a sessionless RMCP+ request until the reply of `replyType` for our console session id
 * (or a refusal, which may carry another id) arrives.
 */
function exchangeSessionless<T extends { remoteConsoleSessionId: number; status: number }>(
  t: UdpTransport,
  datagram: Uint8Array,
  replyType: number,
  decode: (payload: Uint8Array) => T,
  consoleId: number,
  o: ExchangeOptions,
): Promise<T> {
  return t.exchange(
    () => datagram,
    (d) => {
      const payload = rmcpPlusPayload(d, replyType);
      if (!payload) return undefined;
      const m = decode(payload);
      return m.remoteConsoleSessionId === consoleId || m.status !== 0 ? m : undefined;
    },
    o,
  );
}

/** Open Session statuses that mean "not this suite" (another suite may still work). */
const SUITE_REFUSALS = new Set<number>([
  RakpStatus.invalidPayloadType,
  RakpStatus.invalidAuthenticationAlgorithm,
  RakpStatus.invalidIntegrityAlgorithm,
  RakpStatus.noMatchingAuthenticationPayload,
  RakpStatus.noMatchingIntegrityPayload,
  RakpStatus.invalidConfidentialityAlgorithm,
  RakpStatus.noCipherSuiteMatch,
]);

async function openSession(
  t: UdpTransport,
  suite: CipherSuite,
  p: SessionParams,
  consoleId: number,
  deadline: number,
): Promise<{ bmcId: number; suite: CipherSuite }> {
  const tag = random(1)[0]!;
  const body = openSessionRequest.encode({
    messageTag: tag,
    requestedMaxPrivilege: p.privilege,
    remoteConsoleSessionId: consoleId,
    auth: { algorithm: suite.auth },
    integrity: { algorithm: suite.integrity },
    confidentiality: { algorithm: suite.confidentiality },
  });
  const datagram = sealRmcpPlusSessionless(PayloadType.openSessionRequest, body);
  const r = await exchangeSessionless(t, datagram, PayloadType.openSessionResponse, (b) => openSessionResponse.decode(b), consoleId, {
    retransmitMs: p.retransmitMs,
    deadline,
    what: `RMCP+ Open Session (cipher suite ${suite.id})`,
  });
  if (r.status !== RakpStatus.noErrors) {
    throw new IpmiAuthError(`Open Session with cipher suite ${suite.id} refused: ${rakpStatusName(r.status)}`, r.status);
  }
  if (r.auth === suite.auth && r.integrity === suite.integrity && r.confidentiality === suite.confidentiality) return { bmcId: r.managedSystemSessionId, suite };
  // Some BMCs ignore the proposal and answer their own choice.
  const answered = [3, 17, 1, 2, 15, 16].map((id) => cipherSuiteById(id)!).find((s) => s.auth === r.auth && s.integrity === r.integrity && s.confidentiality === r.confidentiality);
  throw new IpmiAuthError(
    `Open Session asked for cipher suite ${suite.id}, the BMC answered ${answered ? `suite ${answered.id}` : "other algorithms"}`,
    RakpStatus.noCipherSuiteMatch,
  );
}

/** Runs RAKP 1-4 on an opened session. */
async function rakp(t: UdpTransport, suite: CipherSuite, p: SessionParams, consoleId: number, bmcId: number): Promise<EstablishedSession> {
  const auth = rakpAuth(suite.auth);
  const username = new TextEncoder().encode(p.username);
  if (username.length > 16) throw new IpmiAuthError("IPMI user name is longer than 16 bytes");
  const role = (p.privilege & 0x0f) | ROLE_NAME_ONLY_LOOKUP;
  const rm = random(16);
  const r1 = sealRmcpPlusSessionless(
    PayloadType.rakp1,
    rakp1.encode({ messageTag: 1, managedSystemSessionId: bmcId, consoleRandom: rm, role, username }),
  );
  const m2 = await exchangeSessionless(t, r1, PayloadType.rakp2, (b) => rakp2.decode(b), consoleId, {
    retransmitMs: p.retransmitMs,
    deadline: p.deadline,
    what: "RAKP message 1",
  });
  if (m2.status !== RakpStatus.noErrors) {
    throw new IpmiAuthError(`RAKP2 from the BMC: ${rakpStatusName(m2.status)}`, m2.status);
  }
  const kuid = userKey(p.password);
  const ctx: RakpContext = { consoleSessionId: consoleId, bmcSessionId: bmcId, consoleRandom: rm, bmcRandom: m2.bmcRandom, bmcGuid: m2.bmcGuid, role, username };
  const fail3 = (status: number) =>
    t.send(sealRmcpPlusSessionless(PayloadType.rakp3, rakp3.encode({ messageTag: 2, status, managedSystemSessionId: bmcId, keyExchangeAuthCode: new Uint8Array(0) })));
  if (auth.keyed && !equalBytes(auth.rakp2Code(kuid, ctx), m2.keyExchangeAuthCode)) {
    // Tell the BMC, so it frees the session at once.
    fail3(RakpStatus.invalidIntegrityCheckValue);
    throw new IpmiAuthError("RAKP2 HMAC mismatch: wrong password", RakpStatus.invalidIntegrityCheckValue);
  }
  const code3 = auth.rakp3Code(kuid, ctx);
  const r3 = sealRmcpPlusSessionless(PayloadType.rakp3, rakp3.encode({ messageTag: 2, status: 0, managedSystemSessionId: bmcId, keyExchangeAuthCode: code3 }));
  const m4 = await exchangeSessionless(t, r3, PayloadType.rakp4, (b) => rakp4.decode(b), consoleId, {
    retransmitMs: p.retransmitMs,
    deadline: p.deadline,
    what: "RAKP message 3",
  });
  if (m4.status !== RakpStatus.noErrors) throw new IpmiAuthError(`RAKP4 from the BMC: ${rakpStatusName(m4.status)}`, m4.status);
  const kg = p.kg !== undefined ? userKey(p.kg) : kuid;
  const keys = auth.sessionKeys(kg, ctx);
  if (auth.keyed && !equalBytes(auth.rakp4Icv(keys.sik, ctx), m4.integrityCheckValue)) {
    throw new IpmiAuthError("RAKP4 integrity check value mismatch (wrong BMC key Kg?)", RakpStatus.invalidIntegrityCheckValue);
  }
  return { suite, consoleId, bmcId, keys, bmcGuid: m2.bmcGuid };
}

/**
 * Opens a session, trying `suites` in order. A suite the BMC refuses (or ignores, when
 * another suite follows: some BMCs drop proposals they do not know) falls through to the next.
 */
export async function establishSession(t: UdpTransport, suites: number[], p: SessionParams): Promise<EstablishedSession> {
  await getAuthCapabilities(t, p.privilege, p.retransmitMs, p.deadline);
  let lastError: unknown;
  for (const [i, id] of suites.entries()) {
    const suite = cipherSuiteById(id);
    if (!suite) throw new RangeError(`cipher suite ${id} is not supported (supported: 0-3, 15-17)`);
    const last = i === suites.length - 1;
    let consoleId = readU32LE(random(4), 0);
    if (consoleId === 0) consoleId = 1;
    let bmcId: number;
    try {
      const openDeadline = last ? p.deadline : Math.min(p.deadline, Date.now() + 3 * p.retransmitMs);
      bmcId = (await openSession(t, suite, p, consoleId, openDeadline)).bmcId;
    } catch (err) {
      const refused = err instanceof IpmiAuthError && err.status !== undefined && SUITE_REFUSALS.has(err.status);
      if (last || !(refused || err instanceof DeadlineError)) throw err;
      p.logger.info("IPMI cipher suite not accepted, trying the next", { suite: id, next: suites[i + 1], reason: (err as Error).message });
      lastError = err;
      continue;
    }
    return await rakp(t, suite, p, consoleId, bmcId);
  }
  throw lastError ?? new IpmiAuthError("no cipher suite to try");
}
