// Authentication blocks (RFC 2608 §9.2):
//   BSD(2) | block length(2, whole block) | timestamp(4) | SPI length(2) | SPI | structured data
// esxkit never emits one and never verifies one; the codec exists so that replies from other
// agents that carry them can be read (and skipped) safely.
import { SlpDecodeError } from "../../errors.ts";
import { byteLength, type Cursor, cursor, outBuffer, readBytes, readString, readU16, readU32, readU8, writeString, writeU16, writeU32 } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface AuthBlock {
  bsd: number;
  timestamp: number;
  spi: string;
  data: Uint8Array;
}

export function readAuthBlock(c: Cursor): AuthBlock {
  const start = c.pos;
  const bsd = readU16(c, "auth block BSD");
  const length = readU16(c, "auth block length");
  if (length < 10 || start + length > c.end) {
    throw new SlpDecodeError("auth-block", `auth block at offset ${start}: length ${length} is outside 10..${c.end - start}`);
  }
  const blockEnd = start + length;
  const timestamp = readU32(c, "auth block timestamp");
  const inner: Cursor = { buf: c.buf, pos: c.pos, end: blockEnd };
  const spi = readString(inner, "auth block SPI");
  const data = readBytes(inner, blockEnd - inner.pos, "auth block data");
  c.pos = blockEnd;
  return { bsd, timestamp, spi, data };
}

/** Reads `count` auth blocks after a u8 count. */
export function readAuthBlocks(c: Cursor, count: number): AuthBlock[] {
  const out: AuthBlock[] = [];
  for (let i = 0; i < count; i++) out.push(readAuthBlock(c));
  return out;
}

// The trailing `#auths(1) | auth blocks` that URL entries, AttrRply and SAAdvert end with.

/** Reads the count and the blocks; undefined when there are none. `what` names the count in errors. */
export function readAuthList(c: Cursor, what: string): AuthBlock[] | undefined {
  const count = readU8(c, `${what} auth count`);
  return count > 0 ? readAuthBlocks(c, count) : undefined;
}

export function writeAuthList(out: Uint8Array, o: number, auths: readonly AuthBlock[] = []): number {
  out[o++] = auths.length;
  for (const a of auths) {
    authBlock.encode(a, out, o);
    o += authBlock.encodingLength(a);
  }
  return o;
}

export function authListLength(auths: readonly AuthBlock[] = []): number {
  let n = 1;
  for (const a of auths) n += authBlock.encodingLength(a);
  return n;
}

export const authBlock: Codec<AuthBlock> = {
  encode(a, buf, offset = 0) {
    const n = authBlock.encodingLength(a);
    if (n > 0xffff) throw new RangeError(`auth block: ${n} bytes does not fit a 16-bit length`);
    const out = outBuffer(buf, offset, n, "auth block");
    let o = writeU16(out, offset, a.bsd);
    o = writeU16(out, o, n);
    o = writeU32(out, o, a.timestamp);
    o = writeString(out, o, a.spi, "auth block SPI");
    out.set(a.data, o);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    return readAuthBlock(cursor(buf, offset, end));
  },
  encodingLength(a) {
    return 10 + byteLength(a.spi) + a.data.length;
  },
};
