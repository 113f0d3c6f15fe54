// SrvRply body (RFC 2608 §8.2): error(2) | URL entry count(2) | URL entries.
import { SlpDecodeError } from "../../errors.ts";
import { type Cursor, cursor, outBuffer, readU16, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { readUrlEntry, type UrlEntry, urlEntry, writeUrlEntry } from "./url-entry.ts";

export interface SrvRply {
  errorCode: number;
  urls: UrlEntry[];
}

export function readSrvRply(c: Cursor): SrvRply {
  const errorCode = readU16(c, "SrvRply error code");
  // An error reply may end after the error code.
  if (c.pos === c.end && errorCode !== 0) return { errorCode, urls: [] };
  const count = readU16(c, "SrvRply URL count");
  const urls: UrlEntry[] = [];
  // Each entry takes at least 6 bytes: a count larger than the rest of the message can hold
  // is refused before looping.
  if (count * 6 > c.end - c.pos) {
    throw new SlpDecodeError("truncated", `SrvRply: ${count} URL entries cannot fit in the ${c.end - c.pos} bytes left at offset ${c.pos}`);
  }
  for (let i = 0; i < count; i++) urls.push(readUrlEntry(c));
  return { errorCode, urls };
}

export function writeSrvRply(out: Uint8Array, o: number, b: SrvRply): number {
  o = writeU16(out, o, b.errorCode);
  o = writeU16(out, o, b.urls.length);
  for (const u of b.urls) o = writeUrlEntry(out, o, u);
  return o;
}

export const srvRply: Codec<SrvRply> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, srvRply.encodingLength(b), "SrvRply");
    writeSrvRply(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readSrvRply(cursor(buf, offset, end));
  },
  encodingLength(b) {
    let n = 4;
    for (const u of b.urls) n += urlEntry.encodingLength(u);
    return n;
  },
};
