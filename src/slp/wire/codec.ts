// The shape every SLP wire codec follows (mafintosh/dns-packet style).
export interface Codec<T> {
  /** Writes `value` at `offset` of `buf` (or a new buffer) and returns that buffer. */
  encode(value: T, buf?: Uint8Array, offset?: number): Uint8Array;
  /**
   * Reads a value at `offset`, never past `end` (default: the buffer's end); throws
   * SlpDecodeError on short or invalid input.
   */
  decode(buf: Uint8Array, offset?: number, end?: number): T;
  encodingLength(value: T): number;
}
