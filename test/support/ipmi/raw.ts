// Drives an IpmiSessionEngine in-process, one datagram at a time, with the wire codecs:
// for tests that need exact control over each handshake step.
import { PayloadType } from "../../../src/ipmi/codes/auth-types.ts";
import { deriveSessionKeys, random, rakp2AuthCode, rakp3AuthCode, rakpHash, userKey, type RakpContext } from "../../../src/ipmi/crypto.ts";
import { openRmcpPlus, sealIpmi15, sealRmcpPlus, sealRmcpPlusSessionless, type RmcpPlusSecurity } from "../../../src/ipmi/secure.ts";
import type { IpmiSessionEngine } from "../../../src/ipmi/server/engine.ts";
import { ipmiRequestMessage, ipmiResponseMessage, type IpmiResponseMessage } from "../../../src/ipmi/wire/message.ts";
import { openSessionRequest, openSessionResponse, type OpenSessionResponse } from "../../../src/ipmi/wire/open-session.ts";
import { packet, type Packet } from "../../../src/ipmi/wire/packet.ts";
import { rakp1, rakp2, rakp3, rakp4, type Rakp2, type Rakp4 } from "../../../src/ipmi/wire/rakp.ts";

export const SOURCE = { address: "127.0.0.1", port: 40000 };

export async function send(engine: IpmiSessionEngine, datagram: Uint8Array, source = SOURCE): Promise<Packet | undefined> {
  const reply = await engine.handleDatagram(datagram, source);
  return reply ? packet.decode(reply) : undefined;
}

/** A sessionless request, framed as IPMI 1.5 or as RMCP+; returns the reply's framing and message. */
export async function sessionless(
  engine: IpmiSessionEngine,
  framing: "ipmi15" | "rmcp+",
  netFn: number,
  cmd: number,
  data: number[],
): Promise<{ framing: string; message: IpmiResponseMessage } | undefined> {
  const msg = ipmiRequestMessage.encode({ rsAddr: 0x20, netFn, rsLun: 0, rqAddr: 0x81, rqSeq: 9, rqLun: 0, cmd, data: new Uint8Array(data) });
  const d = framing === "ipmi15" ? sealIpmi15(0, 0, 0, msg) : sealRmcpPlusSessionless(PayloadType.ipmi, msg);
  const p = await send(engine, d);
  if (!p || p.kind === "asf") return undefined;
  return { framing: p.kind, message: ipmiResponseMessage.decode(p.session.payload) };
}

function payloadOf(p: Packet | undefined, type: number): Uint8Array {
  if (!p || p.kind !== "rmcp+" || p.session.payloadType !== type) throw new Error(`expected RMCP+ payload type 0x${type.toString(16)}, got ${p ? p.kind : "no reply"}`);
  return p.session.payload;
}

export async function openSession(
  engine: IpmiSessionEngine,
  proposal: { auth?: number; integrity?: number; confidentiality?: number; privilege?: number; consoleId?: number },
  source = SOURCE,
): Promise<OpenSessionResponse> {
  const body = openSessionRequest.encode({
    messageTag: 0x42,
    requestedMaxPrivilege: proposal.privilege ?? 4,
    remoteConsoleSessionId: proposal.consoleId ?? 0xa1b2c3d4,
    auth: { algorithm: proposal.auth },
    integrity: { algorithm: proposal.integrity },
    confidentiality: { algorithm: proposal.confidentiality },
  });
  const p = await send(engine, sealRmcpPlusSessionless(PayloadType.openSessionRequest, body), source);
  return openSessionResponse.decode(payloadOf(p, PayloadType.openSessionResponse));
}

export interface RakpRun {
  rakp2: Rakp2;
  ctx: RakpContext;
}

export async function sendRakp1(engine: IpmiSessionEngine, bmcId: number, user: string, role: number, source = SOURCE): Promise<RakpRun> {
  const rm = random(16);
  const username = new TextEncoder().encode(user);
  const p = await send(engine, sealRmcpPlusSessionless(PayloadType.rakp1, rakp1.encode({ messageTag: 1, managedSystemSessionId: bmcId, consoleRandom: rm, role, username })), source);
  const m2 = rakp2.decode(payloadOf(p, PayloadType.rakp2));
  return {
    rakp2: m2,
    ctx: { consoleSessionId: m2.remoteConsoleSessionId, bmcSessionId: bmcId, consoleRandom: rm, bmcRandom: m2.bmcRandom, bmcGuid: m2.bmcGuid, role, username },
  };
}

/** RAKP3 with the code for `password` (a wrong password gives a wrong code). */
export async function sendRakp3(engine: IpmiSessionEngine, run: RakpRun, authAlg: number, password: string, source = SOURCE): Promise<Rakp4> {
  const hash = rakpHash(authAlg)!;
  const code = rakp3AuthCode(hash, userKey(password), run.ctx);
  const p = await send(engine, sealRmcpPlusSessionless(PayloadType.rakp3, rakp3.encode({ messageTag: 2, status: 0, managedSystemSessionId: run.ctx.bmcSessionId, keyExchangeAuthCode: code })), source);
  return rakp4.decode(payloadOf(p, PayloadType.rakp4));
}

export function rakp2Verifies(run: RakpRun, authAlg: number, password: string): boolean {
  const expected = rakp2AuthCode(rakpHash(authAlg)!, userKey(password), run.ctx);
  return Buffer.from(expected).equals(Buffer.from(run.rakp2.keyExchangeAuthCode));
}

export interface RawSession {
  bmcId: number;
  consoleId: number;
  sec: RmcpPlusSecurity;
  /** Last session sequence number used. */
  seq: number;
  /** A sealed in-session request; `seq` defaults to the next number. Returns the decoded reply. */
  request(netFn: number, cmd: number, data: number[], rqSeq: number, seq?: number): Promise<IpmiResponseMessage | undefined>;
}

/** A suite-17 session set up step by step, whose keys the test knows. */
export async function rawSession(engine: IpmiSessionEngine, user: { name: string; password: string }, source = SOURCE, privilege = 4): Promise<RawSession> {
  const o = await openSession(engine, { auth: 3, integrity: 4, confidentiality: 1, privilege }, source);
  const run = await sendRakp1(engine, o.managedSystemSessionId, user.name, 0x10 | privilege, source);
  const m4 = await sendRakp3(engine, run, 3, user.password, source);
  if (m4.status !== 0) throw new Error(`RAKP4 status ${m4.status}`);
  const keys = deriveSessionKeys("sha256", userKey(user.password), run.ctx);
  const sec: RmcpPlusSecurity = { integrity: 4, confidentiality: 1, k1: keys.k1, k2: keys.k2 };
  const s: RawSession = {
    bmcId: o.managedSystemSessionId,
    consoleId: o.remoteConsoleSessionId,
    sec,
    seq: 0,
    async request(netFn, cmd, data, rqSeq, seq) {
      if (seq === undefined) seq = ++s.seq;
      const msg = ipmiRequestMessage.encode({ rsAddr: 0x20, netFn, rsLun: 0, rqAddr: 0x81, rqSeq, rqLun: 0, cmd, data: new Uint8Array(data) });
      const reply = await engine.handleDatagram(sealRmcpPlus(PayloadType.ipmi, s.bmcId, seq, msg, sec), source);
      if (!reply) return undefined;
      const p = packet.decode(reply);
      if (p.kind !== "rmcp+") throw new Error("reply is not RMCP+");
      return ipmiResponseMessage.decode(openRmcpPlus(reply, p.session, sec));
    },
  };
  return s;
}
