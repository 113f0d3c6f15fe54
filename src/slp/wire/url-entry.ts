// URL entries (RFC 2608 §4.3):
//   reserved(1)=0 | lifetime(2, seconds) | URL length(2) | URL | #auths(1) | auth blocks
import { byteLength, type Cursor, cursor, outBuffer, readString, readU16, readU8, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { type AuthBlock, authBlock, readAuthBlocks } from "./auth-block.ts";

export interface UrlEntry {
  lifetime: number;
  url: string;
  authBlocks?: AuthBlock[];
}

export function readUrlEntry(c: Cursor): UrlEntry {
  readU8(c, "URL entry reserved byte");
  const lifetime = readU16(c, "URL entry lifetime");
  const url = readString(c, "URL entry URL");
  const nAuth = readU8(c, "URL entry auth count");
  const entry: UrlEntry = { lifetime, url };
  if (nAuth > 0) entry.authBlocks = readAuthBlocks(c, nAuth);
  return entry;
}

export function writeUrlEntry(out: Uint8Array, offset: number, e: UrlEntry): number {
  out[offset] = 0;
  let o = writeU16(out, offset + 1, e.lifetime);
  o = writeString(out, o, e.url, "URL entry URL");
  const auths = e.authBlocks ?? [];
  out[o++] = auths.length;
  for (const a of auths) {
    authBlock.encode(a, out, o);
    o += authBlock.encodingLength(a);
  }
  return o;
}

export const urlEntry: Codec<UrlEntry> = {
  encode(e, buf, offset = 0) {
    const out = outBuffer(buf, offset, urlEntry.encodingLength(e), "URL entry");
    writeUrlEntry(out, offset, e);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readUrlEntry(cursor(buf, offset, end));
  },
  encodingLength(e) {
    let n = 6 + byteLength(e.url);
    for (const a of e.authBlocks ?? []) n += authBlock.encodingLength(a);
    return n;
  },
};
