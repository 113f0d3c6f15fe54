// RMCP+ Open Session Request / Response (IPMI v2.0 sections 13.17 and 13.18).
import { IpmiDecodeError } from "../../errors.ts";
import { need, outBuffer, readU32LE, writeU32LE } from "./bytes.ts";
import type { Codec } from "./codec.ts";

/**
 * One proposed (or chosen) algorithm. `algorithm` undefined means a "wildcard" payload
 * (payload length 0): the BMC picks.
 */
export interface AlgorithmPayload {
  algorithm?: number;
}

export interface OpenSessionRequest {
  messageTag: number;
  /** 0 = highest level matching the proposed algorithms; else 1..5. */
  requestedMaxPrivilege: number;
  remoteConsoleSessionId: number;
  auth: AlgorithmPayload;
  integrity: AlgorithmPayload;
  confidentiality: AlgorithmPayload;
}

export interface OpenSessionResponse {
  messageTag: number;
  /** RakpStatus; when non-zero only tag, status and console session id are meaningful. */
  status: number;
  maxPrivilege: number;
  remoteConsoleSessionId: number;
  managedSystemSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

function writeAlgorithm(out: Uint8Array, o: number, payloadType: number, alg: number | undefined): void {
  out[o] = payloadType;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = alg === undefined ? 0 : 8;
  out[o + 4] = (alg ?? 0) & 0x3f;
  out[o + 5] = 0;
  out[o + 6] = 0;
  out[o + 7] = 0;
}

function readAlgorithm(buf: Uint8Array, o: number, payloadType: number, what: string): AlgorithmPayload {
  if (buf[o] !== payloadType) throw new IpmiDecodeError(`${what}: payload type ${buf[o]} is not ${payloadType}`);
  const len = buf[o + 3]!;
  if (len === 0) return {};
  if (len !== 8) throw new IpmiDecodeError(`${what}: payload length ${len} is not 8`);
  return { algorithm: buf[o + 4]! & 0x3f };
}

export const openSessionRequest: Codec<OpenSessionRequest> = {
  encode(r, buf, offset = 0) {
    const out = outBuffer(buf, offset, 32, "Open Session Request");
    out[offset] = r.messageTag;
    out[offset + 1] = r.requestedMaxPrivilege & 0x0f;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    writeU32LE(out, offset + 4, r.remoteConsoleSessionId);
    writeAlgorithm(out, offset + 8, 0, r.auth.algorithm);
    writeAlgorithm(out, offset + 16, 1, r.integrity.algorithm);
    writeAlgorithm(out, offset + 24, 2, r.confidentiality.algorithm);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 32, "Open Session Request");
    return {
      messageTag: buf[offset]!,
      requestedMaxPrivilege: buf[offset + 1]! & 0x0f,
      remoteConsoleSessionId: readU32LE(buf, offset + 4),
      auth: readAlgorithm(buf, offset + 8, 0, "Open Session Request authentication payload"),
      integrity: readAlgorithm(buf, offset + 16, 1, "Open Session Request integrity payload"),
      confidentiality: readAlgorithm(buf, offset + 24, 2, "Open Session Request confidentiality payload"),
    };
  },
  encodingLength() {
    return 32;
  },
};

export const openSessionResponse: Codec<OpenSessionResponse> = {
  encode(r, buf, offset = 0) {
    const len = openSessionResponse.encodingLength(r);
    const out = outBuffer(buf, offset, len, "Open Session Response");
    out[offset] = r.messageTag;
    out[offset + 1] = r.status;
    out[offset + 2] = r.maxPrivilege & 0x0f;
    out[offset + 3] = 0;
    writeU32LE(out, offset + 4, r.remoteConsoleSessionId);
    if (r.status === 0) {
      writeU32LE(out, offset + 8, r.managedSystemSessionId);
      writeAlgorithm(out, offset + 12, 0, r.auth);
      writeAlgorithm(out, offset + 20, 1, r.integrity);
      writeAlgorithm(out, offset + 28, 2, r.confidentiality);
    }
    return out;
  },
  /** Error responses may be cut short after the status byte (OpenIPMI sends 2 bytes). */
  decode(buf, offset = 0) {
    need(buf, offset, 2, "Open Session Response");
    const status = buf[offset + 1]!;
    const full = buf.length - offset >= 8;
    const base = {
      messageTag: buf[offset]!,
      status,
      maxPrivilege: full ? buf[offset + 2]! & 0x0f : 0,
      remoteConsoleSessionId: full ? readU32LE(buf, offset + 4) : 0,
      managedSystemSessionId: 0,
      auth: 0,
      integrity: 0,
      confidentiality: 0,
    };
    if (status !== 0) return base;
    need(buf, offset, 36, "Open Session Response");
    base.managedSystemSessionId = readU32LE(buf, offset + 8);
    base.auth = readAlgorithm(buf, offset + 12, 0, "Open Session Response authentication payload").algorithm ?? 0;
    base.integrity = readAlgorithm(buf, offset + 20, 1, "Open Session Response integrity payload").algorithm ?? 0;
    base.confidentiality = readAlgorithm(buf, offset + 28, 2, "Open Session Response confidentiality payload").algorithm ?? 0;
    return base;
  },
  encodingLength(r) {
    return r.status === 0 ? 36 : 8;
  },
};
