// RMCP+ (IPMI v2.0) session wrapper (IPMI v2.0 table 13-8, auth type/format 0x06), with the
// integrity trailer. Encryption and the AuthCode value are computed by the caller
// (src/ipmi/secure.ts); this codec only lays the bytes out.
import { IpmiDecodeError } from "../../errors.ts";
import { AuthType, PayloadType } from "../codes/auth-types.ts";
import { need, outBuffer, readU16LE, readU32LE, writeU16LE, writeU32LE } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const NEXT_HEADER_RMCP_PLUS = 0x07;

export interface RmcpPlusSession {
  /** Bits 5:0 of the payload type byte (see PayloadType). */
  payloadType: number;
  encrypted: boolean;
  authenticated: boolean;
  /** Only for payload type 0x02 (OEM explicit). */
  oemIana?: number;
  oemPayloadId?: number;
  sessionId: number;
  sequence: number;
  /** The payload as it travels (ciphertext with its IV if encrypted). */
  payload: Uint8Array;
  /** The integrity AuthCode; present iff authenticated. */
  authCode?: Uint8Array;
}

function headerLength(s: Pick<RmcpPlusSession, "payloadType">): number {
  return s.payloadType === PayloadType.oemExplicit ? 18 : 12;
}

/** 0xFF bytes that make the integrity-covered range a multiple of 4. */
export function integrityPadLength(headerAndPayloadLength: number): number {
  return (4 - ((headerAndPayloadLength + 2) % 4)) % 4;
}

/**
 * Bytes from the auth type/format byte through the Next Header byte: what the integrity
 * AuthCode covers (IPMI v2.0 section 13.28.4).
 */
export function integrityCoveredLength(s: Pick<RmcpPlusSession, "payloadType" | "payload" | "authenticated">): number {
  const hp = headerLength(s) + s.payload.length;
  return s.authenticated ? hp + integrityPadLength(hp) + 2 : hp;
}

export const rmcpPlusSession: Codec<RmcpPlusSession> = {
  encode(s, buf, offset = 0) {
    if (s.payload.length > 0xffff) throw new RangeError("RMCP+ session: payload longer than 65535 bytes");
    const total = rmcpPlusSession.encodingLength(s);
    const out = outBuffer(buf, offset, total, "RMCP+ session");
    out[offset] = AuthType.rmcpPlus;
    out[offset + 1] = (s.encrypted ? 0x80 : 0) | (s.authenticated ? 0x40 : 0) | (s.payloadType & 0x3f);
    let o = offset + 2;
    if (s.payloadType === PayloadType.oemExplicit) {
      writeU32LE(out, o, s.oemIana ?? 0);
      writeU16LE(out, o + 4, s.oemPayloadId ?? 0);
      o += 6;
    }
    writeU32LE(out, o, s.sessionId);
    writeU32LE(out, o + 4, s.sequence);
    writeU16LE(out, o + 8, s.payload.length);
    out.set(s.payload, o + 10);
    o += 10 + s.payload.length;
    if (s.authenticated) {
      const pad = integrityPadLength(o - offset);
      out.fill(0xff, o, o + pad);
      out[o + pad] = pad;
      out[o + pad + 1] = NEXT_HEADER_RMCP_PLUS;
      o += pad + 2;
      if (s.authCode) out.set(s.authCode, o);
    }
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 12, "RMCP+ session header");
    if (buf[offset] !== AuthType.rmcpPlus) throw new IpmiDecodeError("RMCP+ session header: format byte is not 0x06");
    const pt = buf[offset + 1]!;
    const payloadType = pt & 0x3f;
    const encrypted = (pt & 0x80) !== 0;
    const authenticated = (pt & 0x40) !== 0;
    let o = offset + 2;
    let oemIana: number | undefined;
    let oemPayloadId: number | undefined;
    if (payloadType === PayloadType.oemExplicit) {
      need(buf, o, 16, "RMCP+ OEM session header");
      oemIana = readU32LE(buf, o);
      oemPayloadId = readU16LE(buf, o + 4);
      o += 6;
    }
    const sessionId = readU32LE(buf, o);
    const sequence = readU32LE(buf, o + 4);
    const len = readU16LE(buf, o + 8);
    o += 10;
    need(buf, o, len, "RMCP+ session payload");
    const payload = buf.slice(o, o + len);
    o += len;
    let authCode: Uint8Array | undefined;
    if (authenticated) {
      const pad = integrityPadLength(o - offset);
      need(buf, o, pad + 2, "RMCP+ integrity trailer");
      for (let i = 0; i < pad; i++) {
        if (buf[o + i] !== 0xff) throw new IpmiDecodeError("RMCP+ integrity trailer: pad byte is not 0xFF");
      }
      if (buf[o + pad] !== pad) throw new IpmiDecodeError(`RMCP+ integrity trailer: pad length ${buf[o + pad]} is not ${pad}`);
      if (buf[o + pad + 1] !== NEXT_HEADER_RMCP_PLUS) throw new IpmiDecodeError("RMCP+ integrity trailer: next header is not 0x07");
      authCode = buf.slice(o + pad + 2);
    }
    const s: RmcpPlusSession = { payloadType, encrypted, authenticated, sessionId, sequence, payload };
    if (oemIana !== undefined) {
      s.oemIana = oemIana;
      s.oemPayloadId = oemPayloadId;
    }
    if (authCode) s.authCode = authCode;
    return s;
  },
  encodingLength(s) {
    return integrityCoveredLength(s) + (s.authenticated ? (s.authCode?.length ?? 0) : 0);
  },
};
