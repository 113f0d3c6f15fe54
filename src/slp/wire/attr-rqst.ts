// AttrRqst body (RFC 2608 §10.3): PRList | URL (or service type) | scope-list | tag-list | SLP SPI.
import { byteLength, type Cursor, cursor, outBuffer, readString, writeString } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface AttrRqst {
  prList: string;
  /** A full service URL, or a service type (then the union over all its services is asked). */
  url: string;
  scopeList: string;
  tagList: string;
  spi: string;
}

export function readAttrRqst(c: Cursor): AttrRqst {
  const prList = readString(c, "AttrRqst PRList");
  const url = readString(c, "AttrRqst URL");
  const scopeList = readString(c, "AttrRqst scope-list");
  const tagList = readString(c, "AttrRqst tag-list");
  const spi = readString(c, "AttrRqst SLP SPI");
  return { prList, url, scopeList, tagList, spi };
}

export function writeAttrRqst(out: Uint8Array, o: number, b: AttrRqst): number {
  o = writeString(out, o, b.prList, "AttrRqst PRList");
  o = writeString(out, o, b.url, "AttrRqst URL");
  o = writeString(out, o, b.scopeList, "AttrRqst scope-list");
  o = writeString(out, o, b.tagList, "AttrRqst tag-list");
  return writeString(out, o, b.spi, "AttrRqst SLP SPI");
}

export const attrRqst: Codec<AttrRqst> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, attrRqst.encodingLength(b), "AttrRqst");
    writeAttrRqst(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readAttrRqst(cursor(buf, offset, end));
  },
  encodingLength(b) {
    return 10 + byteLength(b.prList) + byteLength(b.url) + byteLength(b.scopeList) + byteLength(b.tagList) + byteLength(b.spi);
  },
};
