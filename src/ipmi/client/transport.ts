// The client's UDP transport: one connected socket, request/response exchange with
// retransmission and a hard deadline. Nothing here waits without a bound.
import { createSocket, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ConnectError, DeadlineError, IpmiDecodeError } from "../../errors.ts";

export interface ExchangeOptions {
  /** Wait this long for an answer before sending again. */
  retransmitMs: number;
  /** Absolute time (Date.now() based) after which the exchange fails with DeadlineError. */
  deadline: number;
  /** What the exchange is, for the DeadlineError message. */
  what: string;
}

async function resolveHost(host: string, deadline: number): Promise<{ address: string; family: 4 | 6 }> {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const v = isIP(literal);
  if (v) return { address: literal, family: v as 4 | 6 };
  const ms = Math.max(1, deadline - Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const found = await Promise.race([
      lookup(literal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(`resolving ${literal}`, ms)), ms);
      }),
    ]);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    throw new ConnectError(`cannot resolve IPMI host ${literal}: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

export class UdpTransport {
  private waiter: ((d: Uint8Array) => void) | undefined;
  private closed = false;
  /** Sends handed to the socket and not yet flushed. */
  private sending = 0;
  private flushed: (() => void) | undefined;
  private socketError: Error | undefined;

  private constructor(
    private readonly sock: Socket,
    readonly remote: { address: string; port: number },
  ) {
    sock.on("message", (msg, rinfo) => {
      if (rinfo.port !== remote.port) return;
      this.waiter?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    });
    sock.on("error", (err) => {
      // ICMP port unreachable arrives as ECONNREFUSED on a connected socket: remember it,
      // the exchange keeps retransmitting until its deadline (the BMC may be starting).
      this.socketError = err;
    });
  }

  static async open(host: string, port: number, deadline: number): Promise<UdpTransport> {
    const { address, family } = await resolveHost(host, deadline);
    const sock = createSocket(family === 6 ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, () => {
        sock.off("error", reject);
        resolve();
      });
    });
    return new UdpTransport(sock, { address, port });
  }

  /** Fire and forget (used for RAKP3 error notices and Close Session). */
  send(buf: Uint8Array): void {
    if (this.closed) return;
    this.sending++;
    this.sock.send(buf, this.remote.port, this.remote.address, () => {
      this.sending--;
      if (this.sending === 0) this.flushed?.();
    });
  }

  /**
   * Sends `build(attempt)`, then waits for a datagram `accept` turns into a value
   * (undefined = not ours, keep waiting); retransmits every retransmitMs; fails at the
   * deadline. An IpmiDecodeError thrown by `accept` skips that datagram; any other error
   * ends the exchange with it.
   */
  exchange<T>(build: (attempt: number) => Uint8Array, accept: (d: Uint8Array) => T | undefined, o: ExchangeOptions): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectError(`${o.what}: transport closed`));
    if (this.waiter) return Promise.reject(new Error(`${o.what}: another exchange is in progress`));
    const started = Date.now();
    return new Promise<T>((resolve, reject) => {
      let attempt = 0;
      let retransmit: ReturnType<typeof setTimeout> | undefined;
      const finish = (fn: () => void) => {
        clearTimeout(retransmit);
        clearTimeout(hardStop);
        this.waiter = undefined;
        fn();
      };
      const sendOnce = () => {
        if (Date.now() >= o.deadline) return;
        this.send(build(attempt++));
        retransmit = setTimeout(sendOnce, Math.min(o.retransmitMs, Math.max(1, o.deadline - Date.now())));
      };
      const hardStop = setTimeout(
        () => {
          const cause = this.socketError;
          finish(() => reject(new DeadlineError(`${o.what} (IPMI ${this.remote.address}:${this.remote.port})`, Date.now() - started, { cause })));
        },
        Math.max(1, o.deadline - Date.now()),
      );
      this.waiter = (d) => {
        let v: T | undefined;
        try {
          v = accept(d);
        } catch (err) {
          // A datagram we cannot parse is not an answer; keep waiting for one.
          if (err instanceof IpmiDecodeError) return;
          finish(() => reject(err));
          return;
        }
        if (v !== undefined) finish(() => resolve(v as T));
      };
      sendOnce();
    });
  }

  /** Closes the socket once pending sends are flushed (at most 200 ms). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiter = undefined;
    if (this.sending > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.flushed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}
