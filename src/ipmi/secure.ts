// Sealing and opening session packets: RMCP+ integrity + AES-CBC-128, IPMI 1.5 auth codes.
// Shared by the server engine and the client.
import { IpmiDecodeError } from "../errors.ts";
import { AuthType } from "./codes/auth-types.ts";
import { ConfAlg, IntegrityAlg } from "./codes/cipher-suites.ts";
import { aesDecrypt, aesEncrypt, integrityCode, integrityCodeLength, md5AuthCode } from "./crypto.ts";
import { equalBytes } from "./wire/bytes.ts";
import { RMCP_HEADER_LENGTH, ipmiRmcpHeader, rmcpHeader } from "./wire/rmcp.ts";
import { ipmi15Session } from "./wire/session15.ts";
import { integrityCoveredLength, rmcpPlusSession, type RmcpPlusSession } from "./wire/session20.ts";

/** The negotiated protection of an RMCP+ session. */
export interface RmcpPlusSecurity {
  integrity: number;
  confidentiality: number;
  k1: Uint8Array;
  k2: Uint8Array;
}

/** Builds a whole RMCP+ datagram; with `sec`, authenticated/encrypted as negotiated. */
export function sealRmcpPlus(
  payloadType: number,
  sessionId: number,
  sequence: number,
  plainPayload: Uint8Array,
  sec?: RmcpPlusSecurity,
): Uint8Array {
  const encrypted = sec !== undefined && sec.confidentiality === ConfAlg.aesCbc128;
  const authenticated = sec !== undefined && sec.integrity !== IntegrityAlg.none;
  const payload = encrypted ? aesEncrypt(sec.k2, plainPayload) : plainPayload;
  const s: RmcpPlusSession = { payloadType, encrypted, authenticated, sessionId, sequence, payload };
  if (authenticated) s.authCode = new Uint8Array(integrityCodeLength(sec.integrity));
  const out = new Uint8Array(RMCP_HEADER_LENGTH + rmcpPlusSession.encodingLength(s));
  rmcpHeader.encode(ipmiRmcpHeader(), out, 0);
  rmcpPlusSession.encode(s, out, RMCP_HEADER_LENGTH);
  if (authenticated) {
    const covered = integrityCoveredLength(s);
    const code = integrityCode(sec.integrity, sec.k1, out.subarray(RMCP_HEADER_LENGTH, RMCP_HEADER_LENGTH + covered));
    out.set(code, RMCP_HEADER_LENGTH + covered);
  }
  return out;
}

/**
 * Checks an RMCP+ packet against the session's protection and returns the plain payload.
 * `datagram` is the whole datagram `session` was decoded from (at offset 4).
 * Throws IpmiDecodeError when the packet is not protected as negotiated or fails integrity.
 */
export function openRmcpPlus(datagram: Uint8Array, session: RmcpPlusSession, sec: RmcpPlusSecurity): Uint8Array {
  if (sec.integrity !== IntegrityAlg.none) {
    if (!session.authenticated || !session.authCode) throw new IpmiDecodeError("RMCP+ packet is not authenticated");
    if (session.authCode.length !== integrityCodeLength(sec.integrity)) throw new IpmiDecodeError("RMCP+ AuthCode has the wrong length");
    const covered = integrityCoveredLength(session);
    const expected = integrityCode(sec.integrity, sec.k1, datagram.subarray(RMCP_HEADER_LENGTH, RMCP_HEADER_LENGTH + covered));
    if (!equalBytes(expected, session.authCode)) throw new IpmiDecodeError("RMCP+ AuthCode mismatch");
  }
  if (sec.confidentiality === ConfAlg.aesCbc128) {
    if (!session.encrypted) throw new IpmiDecodeError("RMCP+ packet is not encrypted");
    return aesDecrypt(sec.k2, session.payload);
  }
  if (session.encrypted) throw new IpmiDecodeError("RMCP+ packet is encrypted but no confidentiality was negotiated");
  return session.payload;
}

/** Builds a sessionless RMCP+ datagram (session id 0, no protection). */
export function sealRmcpPlusSessionless(payloadType: number, plainPayload: Uint8Array): Uint8Array {
  return sealRmcpPlus(payloadType, 0, 0, plainPayload);
}

/** The IPMI 1.5 AuthCode for a packet, or undefined for auth type none. */
export function ipmi15AuthCode(authType: number, pw16: Uint8Array, sessionId: number, sequence: number, message: Uint8Array): Uint8Array | undefined {
  if (authType === AuthType.none) return undefined;
  if (authType === AuthType.straightPassword) return pw16;
  if (authType === AuthType.md5) return md5AuthCode(pw16, sessionId, message, sequence);
  throw new RangeError(`IPMI 1.5 auth type ${authType} is not supported`);
}

/** Builds a whole IPMI 1.5 datagram. */
export function sealIpmi15(authType: number, sessionId: number, sequence: number, message: Uint8Array, pw16?: Uint8Array): Uint8Array {
  const authCode = authType === AuthType.none ? undefined : ipmi15AuthCode(authType, pw16 ?? new Uint8Array(16), sessionId, sequence, message);
  const s = { authType, sequence, sessionId, authCode, payload: message };
  const out = new Uint8Array(RMCP_HEADER_LENGTH + ipmi15Session.encodingLength(s));
  rmcpHeader.encode(ipmiRmcpHeader(), out, 0);
  ipmi15Session.encode(s, out, RMCP_HEADER_LENGTH);
  return out;
}

export function verifyIpmi15AuthCode(
  authType: number,
  pw16: Uint8Array,
  sessionId: number,
  sequence: number,
  message: Uint8Array,
  authCode: Uint8Array | undefined,
): boolean {
  if (authType === AuthType.none) return authCode === undefined;
  if (!authCode) return false;
  const expected = ipmi15AuthCode(authType, pw16, sessionId, sequence, message);
  return expected !== undefined && equalBytes(expected, authCode);
}

