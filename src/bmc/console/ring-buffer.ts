// The last N bytes a VM wrote to its serial port, kept in memory so `esxkit console VM --log`
// and a newly attached terminal can show what scrolled by while nobody watched.

export class ByteRing {
  readonly #buf: Uint8Array;
  /** Where the next byte goes. */
  #head = 0;
  /** Bytes held, at most the capacity. */
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.#buf = new Uint8Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(bytes: Uint8Array): void {
    const cap = this.capacity;
    // Only the tail of an oversized write can survive: skip what would be overwritten anyway.
    const src = bytes.length > cap ? bytes.subarray(bytes.length - cap) : bytes;
    const first = Math.min(src.length, cap - this.#head);
    this.#buf.set(src.subarray(0, first), this.#head);
    if (first < src.length) this.#buf.set(src.subarray(first), 0);
    this.#head = (this.#head + src.length) % cap;
    this.#size = Math.min(cap, this.#size + src.length);
  }

  /** A copy of the held bytes, oldest first. */
  contents(): Uint8Array {
    const out = new Uint8Array(this.#size);
    const start = (this.#head - this.#size + this.capacity) % this.capacity;
    const first = Math.min(this.#size, this.capacity - start);
    out.set(this.#buf.subarray(start, start + first), 0);
    if (first < this.#size) out.set(this.#buf.subarray(0, this.#size - first), first);
    return out;
  }

  clear(): void {
    this.#head = 0;
    this.#size = 0;
  }
}
