// SrvTypeRqst body (RFC 2608 §10.1):
//   PRList | naming-authority length(2) (0xFFFF = all authorities, no string follows) | NA | scope-list
import { byteLength, type Cursor, cursor, outBuffer, readChars, readString, readU16, writeString, writeU16 } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const ALL_NAMING_AUTHORITIES = 0xffff;

export interface SrvTypeRqst {
  prList: string;
  /** null = all naming authorities; "" = IANA only; else that authority. */
  namingAuthority: string | null;
  scopeList: string;
}

export function readSrvTypeRqst(c: Cursor): SrvTypeRqst {
  const prList = readString(c, "SrvTypeRqst PRList");
  const naLen = readU16(c, "SrvTypeRqst naming-authority length");
  const namingAuthority = naLen === ALL_NAMING_AUTHORITIES ? null : readChars(c, naLen, "SrvTypeRqst naming authority");
  const scopeList = readString(c, "SrvTypeRqst scope-list");
  return { prList, namingAuthority, scopeList };
}

export function writeSrvTypeRqst(out: Uint8Array, o: number, b: SrvTypeRqst): number {
  o = writeString(out, o, b.prList, "SrvTypeRqst PRList");
  if (b.namingAuthority === null) o = writeU16(out, o, ALL_NAMING_AUTHORITIES);
  else {
    if (byteLength(b.namingAuthority) >= ALL_NAMING_AUTHORITIES) throw new RangeError("SrvTypeRqst naming authority: too long");
    o = writeString(out, o, b.namingAuthority, "SrvTypeRqst naming authority");
  }
  return writeString(out, o, b.scopeList, "SrvTypeRqst scope-list");
}

export const srvTypeRqst: Codec<SrvTypeRqst> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, srvTypeRqst.encodingLength(b), "SrvTypeRqst");
    writeSrvTypeRqst(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readSrvTypeRqst(cursor(buf, offset, end));
  },
  encodingLength(b) {
    return 6 + byteLength(b.prList) + (b.namingAuthority === null ? 0 : byteLength(b.namingAuthority)) + byteLength(b.scopeList);
  },
};
