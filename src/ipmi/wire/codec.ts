// The shape every wire codec follows (mafintosh/dns-packet style).
export interface Codec<T> {
  /** Writes `value` at `offset` of `buf` (or a new buffer) and returns that buffer. */
  encode(value: T, buf?: Uint8Array, offset?: number): Uint8Array;
  /** Reads a value at `offset`; throws IpmiDecodeError on short or invalid input. */
  decode(buf: Uint8Array, offset?: number): T;
  encodingLength(value: T): number;
}
