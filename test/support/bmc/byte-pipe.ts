// Two BytePorts joined back to back, for tests: what one end writes, the other receives.
import type { BytePort } from "../../../src/net/byte-port.ts";

export interface PipeEnd extends BytePort {
  readonly received: Uint8Array[];
  /** Breaks the other end sent: for each, how many bytes had been received before it. */
  readonly breaks: number[];
  readonly closedWith: string | undefined;
  text(): string;
}

export function bytePipe(): [PipeEnd, PipeEnd] {
  const make = () => {
    const state = { received: [] as Uint8Array[], breaks: [] as number[], receiver: undefined as ((b: Uint8Array) => void) | undefined, onClose: undefined as ((r: string) => void) | undefined, closedWith: undefined as string | undefined };
    return state;
  };
  const a = make();
  const b = make();
  const end = (me: ReturnType<typeof make>, other: ReturnType<typeof make>): PipeEnd => ({
    get received() {
      return me.received;
    },
    get breaks() {
      return me.breaks;
    },
    get closedWith() {
      return me.closedWith;
    },
    text: () => Buffer.concat(me.received).toString("latin1"),
    write(bytes) {
      if (me.closedWith !== undefined) return false;
      other.received.push(bytes.slice());
      other.receiver?.(bytes);
      return true;
    },
    sendBreak() {
      if (me.closedWith !== undefined) return false;
      other.breaks.push(other.received.reduce((n, b) => n + b.length, 0));
      return true;
    },
    onData(r) {
      me.receiver = r;
    },
    onClose(r) {
      me.onClose = r;
    },
    close(reason = "closed") {
      if (me.closedWith !== undefined) return;
      me.closedWith = reason;
      other.closedWith = reason;
      me.onClose?.(reason);
      other.onClose?.(reason);
    },
  });
  return [end(a, b), end(b, a)];
}
