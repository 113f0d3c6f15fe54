// AttrRply body (RFC 2608 §10.4): error(2) | attr-list length(2) | attr-list | #auths(1) | auth blocks.
import { byteLength, type Cursor, cursor, outBuffer, readString, readU16, readU8, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { type AuthBlock, authBlock, readAuthBlocks } from "./auth-block.ts";

export interface AttrRply {
  errorCode: number;
  /** The attribute list as it travels: escaped, `(tag=v1,v2),keyword`. */
  attrList: string;
  authBlocks?: AuthBlock[];
}

export function readAttrRply(c: Cursor): AttrRply {
  const errorCode = readU16(c, "AttrRply error code");
  if (c.pos === c.end && errorCode !== 0) return { errorCode, attrList: "" };
  const attrList = readString(c, "AttrRply attr-list");
  const out: AttrRply = { errorCode, attrList };
  // An error reply may stop after the error code and an empty list (RFC 2608 §7).
  if (c.pos === c.end) return out;
  const nAuth = readU8(c, "AttrRply auth count");
  if (nAuth > 0) out.authBlocks = readAuthBlocks(c, nAuth);
  return out;
}

export function writeAttrRply(out: Uint8Array, o: number, b: AttrRply): number {
  o = writeU16(out, o, b.errorCode);
  o = writeString(out, o, b.attrList, "AttrRply attr-list");
  const auths = b.authBlocks ?? [];
  out[o++] = auths.length;
  for (const a of auths) {
    authBlock.encode(a, out, o);
    o += authBlock.encodingLength(a);
  }
  return o;
}

export const attrRply: Codec<AttrRply> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, attrRply.encodingLength(b), "AttrRply");
    writeAttrRply(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readAttrRply(cursor(buf, offset, end));
  },
  encodingLength(b) {
    let n = 5 + byteLength(b.attrList);
    for (const a of b.authBlocks ?? []) n += authBlock.encodingLength(a);
    return n;
  },
};
