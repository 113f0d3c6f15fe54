// Bounds-checked primitives shared by the SLP codecs. Every read names the field and the
// offset it failed at, and throws SlpDecodeError with a short stable `reason`.
import { SlpDecodeError } from "../../errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Mutable cursor used while decoding one message. */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

export function cursor(buf: Uint8Array, offset = 0, end = buf.length): Cursor {
  if (end > buf.length) end = buf.length;
  return { buf, pos: offset, end };
}

export function need(c: Cursor, n: number, what: string): void {
  if (c.pos + n > c.end) {
    throw new SlpDecodeError("truncated", `${what}: need ${n} bytes at offset ${c.pos}, have ${Math.max(0, c.end - c.pos)}`);
  }
}

export function readU8(c: Cursor, what: string): number {
  need(c, 1, what);
  return c.buf[c.pos++]!;
}

export function readU16(c: Cursor, what: string): number {
  need(c, 2, what);
  const v = (c.buf[c.pos]! << 8) | c.buf[c.pos + 1]!;
  c.pos += 2;
  return v;
}

export function readU24(c: Cursor, what: string): number {
  need(c, 3, what);
  const v = (c.buf[c.pos]! << 16) | (c.buf[c.pos + 1]! << 8) | c.buf[c.pos + 2]!;
  c.pos += 3;
  return v;
}

export function readU32(c: Cursor, what: string): number {
  need(c, 4, what);
  const b = c.buf;
  const v = b[c.pos]! * 0x1000000 + ((b[c.pos + 1]! << 16) | (b[c.pos + 2]! << 8) | b[c.pos + 3]!);
  c.pos += 4;
  return v;
}

/** `n` bytes as a string; ASCII takes a fast path, anything else must be valid UTF-8. */
export function readChars(c: Cursor, n: number, what: string): string {
  if (c.pos + n > c.end) {
    throw new SlpDecodeError(
      "string-overflow",
      `${what}: length ${n} at offset ${c.pos - 2} runs past the end of the message (${c.end - c.pos} bytes left)`,
    );
  }
  const b = c.buf;
  const start = c.pos;
  const stop = start + n;
  c.pos = stop;
  if (n === 0) return "";
  let ascii = true;
  for (let i = start; i < stop; i++) {
    if (b[i]! & 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && n <= 256) {
    let s = "";
    for (let i = start; i < stop; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  try {
    return utf8.decode(b.subarray(start, stop));
  } catch {
    throw new SlpDecodeError("bad-utf8", `${what}: not valid UTF-8 at offset ${start}`);
  }
}

/** A u16-length-prefixed string (RFC 2608 §2.1). */
export function readString(c: Cursor, what: string): string {
  const n = readU16(c, `${what} length`);
  return readChars(c, n, what);
}

export function readBytes(c: Cursor, n: number, what: string): Uint8Array {
  need(c, n, what);
  const out = c.buf.slice(c.pos, c.pos + n);
  c.pos += n;
  return out;
}

// ---------------------------------------------------------------- writing

export function byteLength(s: string): number {
  // Fast path for the ASCII strings SLP nearly always carries.
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, "utf8");
  }
  return n;
}

export function outBuffer(buf: Uint8Array | undefined, offset: number, length: number, what: string): Uint8Array {
  const out = buf ?? new Uint8Array(offset + length);
  if (offset + length > out.length) throw new RangeError(`${what}: buffer too small (${out.length - offset} < ${length})`);
  return out;
}

export function writeU16(buf: Uint8Array, o: number, v: number): number {
  buf[o] = (v >>> 8) & 0xff;
  buf[o + 1] = v & 0xff;
  return o + 2;
}

export function writeU24(buf: Uint8Array, o: number, v: number): number {
  buf[o] = (v >>> 16) & 0xff;
  buf[o + 1] = (v >>> 8) & 0xff;
  buf[o + 2] = v & 0xff;
  return o + 3;
}

export function writeU32(buf: Uint8Array, o: number, v: number): number {
  buf[o] = (v >>> 24) & 0xff;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
  return o + 4;
}

/** Writes the raw characters of `s` (no length prefix); returns the new offset. */
export function writeChars(buf: Uint8Array, o: number, s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0x7f) {
      ascii = false;
      break;
    }
    buf[o + i] = ch;
  }
  if (ascii) return o + s.length;
  const { written } = encoder.encodeInto(s, buf.subarray(o));
  return o + written;
}

/** A u16-length-prefixed string; throws RangeError if it is longer than 65535 bytes. */
export function writeString(buf: Uint8Array, o: number, s: string, what: string): number {
  const n = byteLength(s);
  if (n > 0xffff) throw new RangeError(`${what}: ${n} bytes does not fit a 16-bit length`);
  writeU16(buf, o, n);
  return writeChars(buf, o + 2, s);
}

export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:|]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new SlpDecodeError("bad-hex", `not a hex string: ${hex.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(clean, "hex"));
}
