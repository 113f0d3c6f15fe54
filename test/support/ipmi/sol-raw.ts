// SOL over a raw in-process session: a ReturnPath that records what the engine sends unasked,
// and helpers to send IPMI requests and SOL packets sealed with the session's keys.
import { PayloadType } from "../../../src/ipmi/codes/auth-types.ts";
import { openRmcpPlus, sealRmcpPlus } from "../../../src/ipmi/secure.ts";
import type { IpmiSessionEngine } from "../../../src/ipmi/server/engine.ts";
import type { ReturnPath } from "../../../src/ipmi/server/types.ts";
import { ipmiRequestMessage, ipmiResponseMessage, type IpmiResponseMessage } from "../../../src/ipmi/wire/message.ts";
import { packet } from "../../../src/ipmi/wire/packet.ts";
import { solPacket, type SolPacket } from "../../../src/ipmi/wire/sol.ts";
import { SOURCE, rawSession, type RawSession } from "./raw.ts";

export interface RecordingPath extends ReturnPath {
  sent: Uint8Array[];
}

export function recordingPath(localPort = 6230): RecordingPath {
  const sent: Uint8Array[] = [];
  return { localPort, sent, send: (d) => void sent.push(d) };
}

export interface SolSession {
  raw: RawSession;
  path: RecordingPath;
  source: { address: string; port: number };
  request(netFn: number, cmd: number, data: number[]): Promise<IpmiResponseMessage | undefined>;
  /** Sends a SOL packet; returns the SOL packet the engine answered with directly (the ACK), if any. */
  sol(p: Partial<SolPacket>, seq?: number): Promise<SolPacket | undefined>;
  /** SOL packets the engine sent unasked since the last call (decoded, in order). */
  drain(): SolPacket[];
  /** Activate Payload for SOL instance 1 with encryption + authentication. */
  activate(): Promise<IpmiResponseMessage | undefined>;
  deactivate(): Promise<IpmiResponseMessage | undefined>;
}

let rqSeq = 1;

export async function solSession(
  engine: IpmiSessionEngine,
  user: { name: string; password: string; maxPrivilege?: number },
  source = SOURCE,
  path = recordingPath(),
): Promise<SolSession> {
  const raw = await rawSession(engine, user, source, user.maxPrivilege ?? 4);
  const open = (d: Uint8Array) => {
    const p = packet.decode(d);
    if (p.kind !== "rmcp+") throw new Error("not RMCP+");
    return { type: p.session.payloadType, plain: openRmcpPlus(d, p.session, raw.sec) };
  };
  const s: SolSession = {
    raw,
    path,
    source,
    async request(netFn, cmd, data) {
      const msg = ipmiRequestMessage.encode({ rsAddr: 0x20, netFn, rsLun: 0, rqAddr: 0x81, rqSeq: rqSeq++ & 0x3f, rqLun: 0, cmd, data: new Uint8Array(data) });
      const reply = await engine.handleDatagram(sealRmcpPlus(PayloadType.ipmi, raw.bmcId, ++raw.seq, msg, raw.sec), source, path);
      if (!reply) return undefined;
      return ipmiResponseMessage.decode(open(reply).plain);
    },
    async sol(p, seq) {
      const body = solPacket.encode({ sequence: 0, ackSequence: 0, acceptedCount: 0, flags: 0, data: new Uint8Array(0), ...p });
      const reply = await engine.handleDatagram(sealRmcpPlus(PayloadType.sol, raw.bmcId, seq ?? ++raw.seq, body, raw.sec), source, path);
      if (!reply) return undefined;
      const o = open(reply);
      if (o.type !== PayloadType.sol) throw new Error(`reply payload type ${o.type}`);
      return solPacket.decode(o.plain);
    },
    drain() {
      const out = path.sent.splice(0).map((d) => {
        const o = open(d);
        if (o.type !== PayloadType.sol) throw new Error(`unsolicited payload type ${o.type}`);
        return solPacket.decode(o.plain);
      });
      return out;
    },
    activate: () => s.request(0x06, 0x48, [0x01, 0x01, 0xc6, 0, 0, 0]),
    deactivate: () => s.request(0x06, 0x49, [0x01, 0x01, 0, 0, 0, 0]),
  };
  return s;
}

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
