// URL entries (RFC 2608 §4.3):
//   reserved(1)=0 | lifetime(2, seconds) | URL length(2) | URL | #auths(1) | auth blocks
import { byteLength, type Cursor, cursor, outBuffer, readString, readU16, readU8, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { type AuthBlock, authListLength, readAuthList, writeAuthList } from "./auth-block.ts";

export interface UrlEntry {
  lifetime: number;
  url: string;
  authBlocks?: AuthBlock[];
}

export function readUrlEntry(c: Cursor): UrlEntry {
  readU8(c, "URL entry reserved byte");
  const lifetime = readU16(c, "URL entry lifetime");
  const url = readString(c, "URL entry URL");
  const authBlocks = readAuthList(c, "URL entry");
  const entry: UrlEntry = { lifetime, url };
  if (authBlocks) entry.authBlocks = authBlocks;
  return entry;
}

export function writeUrlEntry(out: Uint8Array, offset: number, e: UrlEntry): number {
  out[offset] = 0;
  let o = writeU16(out, offset + 1, e.lifetime);
  o = writeString(out, o, e.url, "URL entry URL");
  return writeAuthList(out, o, e.authBlocks);
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
    return 5 + byteLength(e.url) + authListLength(e.authBlocks);
  },
};
