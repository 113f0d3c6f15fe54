// Small helpers shared by the codecs: bounds-checked reads that throw IpmiDecodeError.
import { IpmiDecodeError } from "../../errors.ts";

export function need(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (offset < 0 || offset + length > buf.length) {
    throw new IpmiDecodeError(`${what}: need ${length} bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`);
  }
}

export function readU32LE(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x1000000) >>> 0;
}

export function writeU32LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}

export function readU16LE(buf: Uint8Array, offset: number): number {
  return buf[offset]! | (buf[offset + 1]! << 8);
}

export function writeU16LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new IpmiDecodeError(`not a hex string: ${hex.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(clean, "hex"));
}

/** Constant-time comparison for authentication codes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** An encoder's output buffer: the caller's, or a new one of the right size. */
export function outBuffer(buf: Uint8Array | undefined, offset: number, length: number, what: string): Uint8Array {
  const out = buf ?? new Uint8Array(offset + length);
  if (offset + length > out.length) throw new RangeError(`${what}: buffer too small (${out.length - offset} < ${length})`);
  return out;
}
