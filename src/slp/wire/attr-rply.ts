// AttrRply body (RFC 2608 §10.4): error(2) | attr-list length(2) | attr-list | #auths(1) | auth blocks.
import { byteLength, type Cursor, cursor, outBuffer, readString, readU16, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { type AuthBlock, authListLength, readAuthList, writeAuthList } from "./auth-block.ts";

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
  const authBlocks = readAuthList(c, "AttrRply");
  if (authBlocks) out.authBlocks = authBlocks;
  return out;
}

export function writeAttrRply(out: Uint8Array, o: number, b: AttrRply): number {
  o = writeU16(out, o, b.errorCode);
  o = writeString(out, o, b.attrList, "AttrRply attr-list");
  return writeAuthList(out, o, b.authBlocks);
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
    return 4 + byteLength(b.attrList) + authListLength(b.authBlocks);
  },
};
