// The client's UDP transport: one socket, request/response exchange with retransmission and
// a hard deadline. Nothing here waits without a bound.
// Bun's own UDP socket and resolver, not node:dgram and node:dns: each of those modules costs
// `esxkit ipmi` more at start than a whole hello world, and the watchdog fences through here.
import { ConnectError, DeadlineError, IpmiDecodeError } from "../../errors.ts";
import { ipFamily } from "../../net/ip-literal.ts";

type Socket = Bun.udp.Socket<"uint8array">;

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
  const v = ipFamily(literal);
  if (v) return { address: literal, family: v };
  const ms = Math.max(1, deadline - Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const found = await Promise.race([
      Bun.dns.lookup(literal, {}).then((all) => {
        const first = all[0];
        if (!first) throw new Error("no address");
        return first;
      }),
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
  /** The last error a send met (ECONNREFUSED queued from an ICMP port unreachable …). */
  private socketError: Error | undefined;
  private sock!: Socket;

  private constructor(readonly remote: { address: string; port: number }) {}

  static async open(host: string, port: number, deadline: number): Promise<UdpTransport> {
    const { address, family } = await resolveHost(host, deadline);
    const transport = new UdpTransport({ address, port });
    transport.sock = await Bun.udpSocket({
      hostname: family === 6 ? "::" : "0.0.0.0",
      port: 0,
      binaryType: "uint8array",
      socket: {
        data: (_sock, data, rport) => {
          if (rport !== port) return;
          transport.waiter?.(data);
        },
        // An ICMP error must not end the socket: the exchange retransmits until its deadline
        // (the BMC may be starting), and a DeadlineError carries the error as its cause.
        error: (_sock, err) => {
          transport.socketError = err;
        },
      },
    });
    return transport;
  }

  /** The local port the exchanges come from. */
  get localPort(): number {
    return this.sock.port;
  }

  /** Fire and forget (used for RAKP3 error notices and Close Session). Sends are synchronous. */
  send(buf: Uint8Array): void {
    if (this.closed) return;
    try {
      // false: the kernel's buffer is full. Like a lost datagram: the exchange sends again.
      this.sock.send(buf, this.remote.port, this.remote.address);
    } catch (err) {
      // Bun throws what the kernel queued from an earlier ICMP error: remember it, retransmit.
      this.socketError = err as Error;
    }
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

  /** Closes the socket (every send has already reached the kernel). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiter = undefined;
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}
