// A serial console for SOL tests: every port it opens echoes what it is sent (as a VM's
// getty echoes keystrokes), records it, and can be made to print or to hang up.
import type { BytePort } from "../../../src/net/byte-port.ts";
import type { SolConsole } from "../../../src/ipmi/server/types.ts";

export interface EchoPort extends BytePort {
  /** Everything written toward the "VM", concatenated. */
  received(): string;
  /** Serial breaks sent toward the "VM": for each, how many bytes had been written before it. */
  readonly breaks: number[];
  /** Bytes from the "VM" toward the SOL console. */
  emit(text: string | Uint8Array): void;
  /** Hangs up from the far side (the VM's serial port went away). */
  hangUp(reason?: string): void;
  readonly closed: boolean;
  closeReason?: string;
}

export interface EchoConsole extends SolConsole {
  ports: EchoPort[];
  /** The last port opened. */
  last(): EchoPort | undefined;
  /** Whether the next open() finds a console (false: no console right now). */
  available: boolean;
}

export interface EchoOptions {
  /** Echo keystrokes back (default true). */
  echo?: boolean;
  /** Printed 50 ms after the port opens. */
  banner?: string;
  /**
   * Extra output for what was typed since the last reply (after the echo), e.g. a long listing
   * for "dump\r". A client may send a word in pieces ("dum", "p\r"), so the text accumulates.
   */
  reply?: (typed: string) => string | undefined;
  /** The port takes serial breaks (default true); false: a port without sendBreak. */
  breaks?: boolean;
}

export function echoPort(opts: EchoOptions = {}): EchoPort {
  let receiver: ((b: Uint8Array) => void) | undefined;
  let onClose: ((r: string) => void) | undefined;
  const chunks: Buffer[] = [];
  let typed = "";
  const port: EchoPort = {
    closed: false,
    breaks: [],
    write(bytes) {
      if (port.closed) return false;
      chunks.push(Buffer.from(bytes));
      if (opts.echo !== false) {
        const copy = new Uint8Array(bytes);
        queueMicrotask(() => !port.closed && receiver?.(copy));
      }
      typed += Buffer.from(bytes).toString("latin1");
      const extra = opts.reply?.(typed);
      if (extra) {
        typed = "";
        setTimeout(() => port.emit(extra), 1);
      }
      return true;
    },
    onData(r) {
      receiver = r;
    },
    onClose(r) {
      onClose = r;
    },
    close(reason = "closed") {
      if (port.closed) return;
      (port as { closed: boolean }).closed = true;
      port.closeReason = reason;
    },
    received: () => Buffer.concat(chunks).toString("latin1"),
    emit(text) {
      if (port.closed) return;
      receiver?.(typeof text === "string" ? new Uint8Array(Buffer.from(text, "latin1")) : text);
    },
    hangUp(reason = "far side hung up") {
      if (port.closed) return;
      (port as { closed: boolean }).closed = true;
      port.closeReason = reason;
      onClose?.(reason);
    },
  };
  if (opts.breaks !== false) {
    port.sendBreak = () => {
      if (port.closed) return false;
      port.breaks.push(chunks.reduce((n, c) => n + c.length, 0));
      return true;
    };
  }
  if (opts.banner) {
    const banner = opts.banner;
    setTimeout(() => port.emit(banner), 50);
  }
  return port;
}

export function echoConsole(opts: EchoOptions = {}): EchoConsole {
  const c: EchoConsole = {
    ports: [],
    available: true,
    last: () => c.ports.at(-1),
    open() {
      if (!c.available) return undefined;
      const p = echoPort(opts);
      c.ports.push(p);
      return p;
    },
  };
  return c;
}
