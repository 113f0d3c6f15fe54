// A whole IPMI-over-LAN datagram: the RMCP header and what follows it (ASF, an IPMI 1.5
// session or an RMCP+ session).
import { IpmiDecodeError } from "../../errors.ts";
import { AuthType } from "../codes/auth-types.ts";
import { asfMessage, type AsfMessage } from "./asf.ts";
import { outBuffer } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { RMCP_HEADER_LENGTH, RmcpClass, rmcpHeader, type RmcpHeader } from "./rmcp.ts";
import { ipmi15Session, type Ipmi15Session } from "./session15.ts";
import { rmcpPlusSession, type RmcpPlusSession } from "./session20.ts";

export type Packet =
  | { kind: "asf"; rmcp: RmcpHeader; asf: AsfMessage }
  | { kind: "ipmi15"; rmcp: RmcpHeader; session: Ipmi15Session }
  | { kind: "rmcp+"; rmcp: RmcpHeader; session: RmcpPlusSession };

export const packet: Codec<Packet> = {
  encode(p, buf, offset = 0) {
    const out = outBuffer(buf, offset, packet.encodingLength(p), "RMCP packet");
    rmcpHeader.encode(p.rmcp, out, offset);
    const o = offset + RMCP_HEADER_LENGTH;
    if (p.kind === "asf") asfMessage.encode(p.asf, out, o);
    else if (p.kind === "ipmi15") ipmi15Session.encode(p.session, out, o);
    else rmcpPlusSession.encode(p.session, out, o);
    return out;
  },
  decode(buf, offset = 0) {
    const rmcp = rmcpHeader.decode(buf, offset);
    const o = offset + RMCP_HEADER_LENGTH;
    if (rmcp.ack) throw new IpmiDecodeError("RMCP ACK messages are not handled");
    if (rmcp.messageClass === RmcpClass.asf) return { kind: "asf", rmcp, asf: asfMessage.decode(buf, o) };
    if (rmcp.messageClass !== RmcpClass.ipmi) {
      throw new IpmiDecodeError(`RMCP header: message class 0x${rmcp.messageClass.toString(16)} is not ASF or IPMI`);
    }
    if (buf.length <= o) throw new IpmiDecodeError("RMCP packet: no session header");
    if (buf[o] === AuthType.rmcpPlus) return { kind: "rmcp+", rmcp, session: rmcpPlusSession.decode(buf, o) };
    return { kind: "ipmi15", rmcp, session: ipmi15Session.decode(buf, o) };
  },
  encodingLength(p) {
    if (p.kind === "asf") return RMCP_HEADER_LENGTH + asfMessage.encodingLength(p.asf);
    if (p.kind === "ipmi15") return RMCP_HEADER_LENGTH + ipmi15Session.encodingLength(p.session);
    return RMCP_HEADER_LENGTH + rmcpPlusSession.encodingLength(p.session);
  },
};
