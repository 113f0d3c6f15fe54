// SrvTypeRply body (RFC 2608 §10.2): error(2) | srvtype-list length(2) | srvtype-list.
import { byteLength, type Cursor, cursor, outBuffer, readString, readU16, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface SrvTypeRply {
  errorCode: number;
  /** Comma-separated service types. */
  typeList: string;
}

export function readSrvTypeRply(c: Cursor): SrvTypeRply {
  const errorCode = readU16(c, "SrvTypeRply error code");
  // An error reply may end after the error code.
  if (c.pos === c.end && errorCode !== 0) return { errorCode, typeList: "" };
  const typeList = readString(c, "SrvTypeRply srvtype-list");
  return { errorCode, typeList };
}

export function writeSrvTypeRply(out: Uint8Array, o: number, b: SrvTypeRply): number {
  o = writeU16(out, o, b.errorCode);
  return writeString(out, o, b.typeList, "SrvTypeRply srvtype-list");
}

export const srvTypeRply: Codec<SrvTypeRply> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, srvTypeRply.encodingLength(b), "SrvTypeRply");
    writeSrvTypeRply(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readSrvTypeRply(cursor(buf, offset, end));
  },
  encodingLength(b) {
    return 4 + byteLength(b.typeList);
  },
};
