// IPMI v1.5 session wrapper (IPMI v2.0 table 13-8): follows the RMCP header when the
// auth type byte is not 0x06. Used for sessionless requests and for IPMI 1.5 sessions.
import { IpmiDecodeError } from "../../errors.ts";
import { AuthType } from "../codes/auth-types.ts";
import { need, outBuffer, readU32LE, writeU32LE } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface Ipmi15Session {
  authType: number;
  sequence: number;
  sessionId: number;
  /** 16 bytes, present iff authType is not "none". */
  authCode?: Uint8Array;
  /** The IPMI message (at most 255 bytes). */
  payload: Uint8Array;
}

function headerLength(authType: number): number {
  return authType === AuthType.none ? 10 : 26;
}

export const ipmi15Session: Codec<Ipmi15Session> = {
  encode(s, buf, offset = 0) {
    if (s.payload.length > 255) throw new RangeError("IPMI 1.5 session: message longer than 255 bytes");
    const hl = headerLength(s.authType);
    const out = outBuffer(buf, offset, hl + s.payload.length, "IPMI 1.5 session");
    out[offset] = s.authType;
    writeU32LE(out, offset + 1, s.sequence);
    writeU32LE(out, offset + 5, s.sessionId);
    let o = offset + 9;
    if (s.authType !== AuthType.none) {
      if (!s.authCode || s.authCode.length !== 16) throw new RangeError("IPMI 1.5 session: auth code must be 16 bytes");
      out.set(s.authCode, o);
      o += 16;
    }
    out[o] = s.payload.length;
    out.set(s.payload, o + 1);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 10, "IPMI 1.5 session header");
    const authType = buf[offset]!;
    if (authType === AuthType.rmcpPlus) throw new IpmiDecodeError("IPMI 1.5 session header: auth type 0x06 is RMCP+");
    if (authType > AuthType.oem) throw new IpmiDecodeError(`IPMI 1.5 session header: unknown auth type 0x${authType.toString(16)}`);
    const sequence = readU32LE(buf, offset + 1);
    const sessionId = readU32LE(buf, offset + 5);
    let o = offset + 9;
    let authCode: Uint8Array | undefined;
    if (authType !== AuthType.none) {
      need(buf, o, 17, "IPMI 1.5 session auth code");
      authCode = buf.slice(o, o + 16);
      o += 16;
    }
    const len = buf[o]!;
    // A trailing "legacy pad" byte may follow the message; it is not part of it.
    need(buf, o + 1, len, "IPMI 1.5 session message");
    return { authType, sequence, sessionId, authCode, payload: buf.slice(o + 1, o + 1 + len) };
  },
  encodingLength(s) {
    return headerLength(s.authType) + s.payload.length;
  },
};
