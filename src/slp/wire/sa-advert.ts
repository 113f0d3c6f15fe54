// SAAdvert body (RFC 2608 §8.6): URL | scope-list | attr-list | #auths(1) | auth blocks.
import { byteLength, type Cursor, cursor, outBuffer, readString, writeString } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { type AuthBlock, authListLength, readAuthList, writeAuthList } from "./auth-block.ts";

export interface SAAdvert {
  /** service:service-agent://<address> */
  url: string;
  scopeList: string;
  attrList: string;
  authBlocks?: AuthBlock[];
}

export function readSAAdvert(c: Cursor): SAAdvert {
  const url = readString(c, "SAAdvert URL");
  const scopeList = readString(c, "SAAdvert scope-list");
  const attrList = readString(c, "SAAdvert attr-list");
  const authBlocks = readAuthList(c, "SAAdvert");
  const out: SAAdvert = { url, scopeList, attrList };
  if (authBlocks) out.authBlocks = authBlocks;
  return out;
}

export function writeSAAdvert(out: Uint8Array, o: number, b: SAAdvert): number {
  o = writeString(out, o, b.url, "SAAdvert URL");
  o = writeString(out, o, b.scopeList, "SAAdvert scope-list");
  o = writeString(out, o, b.attrList, "SAAdvert attr-list");
  return writeAuthList(out, o, b.authBlocks);
}

export const saAdvert: Codec<SAAdvert> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, saAdvert.encodingLength(b), "SAAdvert");
    writeSAAdvert(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readSAAdvert(cursor(buf, offset, end));
  },
  encodingLength(b) {
    return 6 + byteLength(b.url) + byteLength(b.scopeList) + byteLength(b.attrList) + authListLength(b.authBlocks);
  },
};
