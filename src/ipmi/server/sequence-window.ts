// The inbound session sequence number check: a 32-entry sliding window (IPMI v2.0
// section 6.12.13). A number is accepted once; numbers more than 31 behind the highest
// seen, or implausibly far ahead, are rejected.
export const WINDOW_SIZE = 32;

export type SequenceVerdict = "new" | "duplicate" | "outside";

export class SequenceWindow {
  private highest: number | undefined;
  /** Bit i set: highest - i has been seen. */
  private seen = 0;

  /** `expectedFirst`: the first number the peer must use (IPMI 1.5); undefined accepts any non-zero start. */
  constructor(private readonly expectedFirst?: number) {}

  check(seq: number): SequenceVerdict {
    if (seq === 0) return "outside";
    if (this.highest === undefined) {
      if (this.expectedFirst === undefined) return "new";
      const d = (seq - this.expectedFirst) >>> 0;
      return d < WINDOW_SIZE ? "new" : "outside";
    }
    const ahead = (seq - this.highest) >>> 0;
    if (ahead === 0) return "duplicate";
    if (ahead <= WINDOW_SIZE) return "new";
    const behind = (this.highest - seq) >>> 0;
    if (behind < WINDOW_SIZE) return (this.seen >>> behind) & 1 ? "duplicate" : "new";
    return "outside";
  }

  /** Records an accepted number (call only after check() said "new" and the packet was authentic). */
  accept(seq: number): void {
    if (this.highest === undefined) {
      this.highest = seq;
      this.seen = 1;
      return;
    }
    const ahead = (seq - this.highest) >>> 0;
    if (ahead > 0 && ahead <= WINDOW_SIZE) {
      this.seen = ahead >= 32 ? 1 : ((this.seen << ahead) | 1) >>> 0;
      this.highest = seq;
    } else {
      const behind = (this.highest - seq) >>> 0;
      if (behind < WINDOW_SIZE) this.seen = (this.seen | (1 << behind)) >>> 0;
    }
  }
}
