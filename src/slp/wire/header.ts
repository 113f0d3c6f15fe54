// The SLPv2 message header (RFC 2608 §8):
//   version(1)=2 | function(1) | length(3) | flags(2) | next-ext-offset(3) | XID(2) | lang-len(2) | lang
import { SlpDecodeError } from "../../errors.ts";
import { byteLength, type Cursor, cursor, outBuffer, readChars, readU16, readU24, readU8, writeChars, writeU16, writeU24 } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const SLP_VERSION = 2;
/** Bytes of the header before the language tag. */
export const HEADER_FIXED_LENGTH = 14;

export const HeaderFlags = {
  /** O: the message did not fit and was truncated. */
  Overflow: 0x8000,
  /** F: a fresh registration (SrvReg only). */
  Fresh: 0x4000,
  /** R: the request was multicast (or broadcast). */
  RequestMcast: 0x2000,
} as const;
/** Bits RFC 2608 says MUST be zero. */
export const RESERVED_FLAGS = 0x1fff;

export interface SlpHeader {
  version: number;
  functionId: number;
  /** Length of the whole message, header included. */
  length: number;
  flags: number;
  /** Offset of the first extension from the start of the message; 0 = none. */
  nextExtOffset: number;
  xid: number;
  langTag: string;
}

/** Reads the header; checks only what the header itself can tell (version, lengths). */
export function readHeader(c: Cursor): SlpHeader {
  const start = c.pos;
  const version = readU8(c, "header version");
  if (version !== SLP_VERSION) {
    throw new SlpDecodeError("version", `header: SLP version ${version} at offset ${start} (only version 2 is spoken)`);
  }
  const functionId = readU8(c, "header function-id");
  const length = readU24(c, "header length");
  const flags = readU16(c, "header flags");
  const nextExtOffset = readU24(c, "header next-extension-offset");
  const xid = readU16(c, "header XID");
  const langLen = readU16(c, "header language-tag length");
  const langTag = readChars(c, langLen, "header language tag");
  return { version, functionId, length, flags, nextExtOffset, xid, langTag };
}

export const header: Codec<SlpHeader> = {
  encode(h, buf, offset = 0) {
    const n = header.encodingLength(h);
    const out = outBuffer(buf, offset, n, "SLP header");
    out[offset] = h.version;
    out[offset + 1] = h.functionId;
    writeU24(out, offset + 2, h.length);
    writeU16(out, offset + 5, h.flags);
    writeU24(out, offset + 7, h.nextExtOffset);
    writeU16(out, offset + 10, h.xid);
    writeU16(out, offset + 12, byteLength(h.langTag));
    writeChars(out, offset + 14, h.langTag);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readHeader(cursor(buf, offset, end));
  },
  encodingLength(h) {
    return HEADER_FIXED_LENGTH + byteLength(h.langTag);
  },
};
