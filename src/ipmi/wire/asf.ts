// ASF messages carried in RMCP class 6 (DMTF ASF 2.0 section 3.2.4): Presence Ping and Pong.
import { IpmiDecodeError } from "../../errors.ts";
import { need, outBuffer } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const ASF_IANA = 4542;
export const AsfMessageType = { presencePong: 0x40, presencePing: 0x80 } as const;

/** The ASF message after the RMCP header. IANA is big-endian on the wire. */
export interface AsfMessage {
  iana: number;
  messageType: number;
  messageTag: number;
  data: Uint8Array;
}

function readU32BE(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) >>> 0) + ((buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!);
}
function writeU32BE(buf: Uint8Array, o: number, v: number): void {
  buf[o] = (v >>> 24) & 0xff;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}

export const asfMessage: Codec<AsfMessage> = {
  encode(m, buf, offset = 0) {
    const out = outBuffer(buf, offset, 8 + m.data.length, "ASF message");
    writeU32BE(out, offset, m.iana);
    out[offset + 4] = m.messageType;
    out[offset + 5] = m.messageTag;
    out[offset + 6] = 0;
    out[offset + 7] = m.data.length;
    out.set(m.data, offset + 8);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 8, "ASF message");
    const len = buf[offset + 7]!;
    need(buf, offset + 8, len, "ASF message data");
    return {
      iana: readU32BE(buf, offset),
      messageType: buf[offset + 4]!,
      messageTag: buf[offset + 5]!,
      data: buf.slice(offset + 8, offset + 8 + len),
    };
  },
  encodingLength(m) {
    return 8 + m.data.length;
  },
};

/** The 16 data bytes of a Presence Pong. */
export interface PresencePong {
  iana: number;
  oemDefined: number;
  /** 0x81: IPMI supported, ASF version 1.0. */
  supportedEntities: number;
  supportedInteractions: number;
}

export const presencePong: Codec<PresencePong> = {
  encode(p, buf, offset = 0) {
    const out = outBuffer(buf, offset, 16, "Presence Pong");
    writeU32BE(out, offset, p.iana);
    writeU32BE(out, offset + 4, p.oemDefined);
    out[offset + 8] = p.supportedEntities;
    out[offset + 9] = p.supportedInteractions;
    out.fill(0, offset + 10, offset + 16);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 16, "Presence Pong");
    const iana = readU32BE(buf, offset);
    if (iana !== ASF_IANA) throw new IpmiDecodeError(`Presence Pong: IANA ${iana} is not ${ASF_IANA}`);
    return {
      iana,
      oemDefined: readU32BE(buf, offset + 4),
      supportedEntities: buf[offset + 8]!,
      supportedInteractions: buf[offset + 9]!,
    };
  },
  encodingLength() {
    return 16;
  },
};
