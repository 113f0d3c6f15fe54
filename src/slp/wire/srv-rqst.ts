// SrvRqst body (RFC 2608 §8.1): PRList | service-type | scope-list | predicate | SLP SPI,
// each a u16-length string.
import { byteLength, type Cursor, cursor, outBuffer, readString, writeString } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface SrvRqst {
  prList: string;
  serviceType: string;
  scopeList: string;
  predicate: string;
  spi: string;
}

export function readSrvRqst(c: Cursor): SrvRqst {
  const prList = readString(c, "SrvRqst PRList");
  const serviceType = readString(c, "SrvRqst service-type");
  const scopeList = readString(c, "SrvRqst scope-list");
  const predicate = readString(c, "SrvRqst predicate");
  const spi = readString(c, "SrvRqst SLP SPI");
  return { prList, serviceType, scopeList, predicate, spi };
}

export function writeSrvRqst(out: Uint8Array, o: number, b: SrvRqst): number {
  o = writeString(out, o, b.prList, "SrvRqst PRList");
  o = writeString(out, o, b.serviceType, "SrvRqst service-type");
  o = writeString(out, o, b.scopeList, "SrvRqst scope-list");
  o = writeString(out, o, b.predicate, "SrvRqst predicate");
  return writeString(out, o, b.spi, "SrvRqst SLP SPI");
}

export const srvRqst: Codec<SrvRqst> = {
  encode(b, buf, offset = 0) {
    const out = outBuffer(buf, offset, srvRqst.encodingLength(b), "SrvRqst");
    writeSrvRqst(out, offset, b);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readSrvRqst(cursor(buf, offset, end));
  },
  encodingLength(b) {
    return 10 + byteLength(b.prList) + byteLength(b.serviceType) + byteLength(b.scopeList) + byteLength(b.predicate) + byteLength(b.spi);
  },
};
