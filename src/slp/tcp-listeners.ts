// The responder's optional TCP listeners, one per interface address, for replies that
// overflow UDP. Each connection carries one request, framed by its SLP header length, under
// the limits below (notes §4 item 9); anything else closes it.
import type { Socket as TcpSocket, TCPSocketListener } from "bun";
import type { Logger } from "../log/logger.ts";

/** Limits on the optional TCP listener (notes §4 item 9). */
export const TCP_LIMITS = { maxConnections: 32, idleSeconds: 5, maxRequestBytes: 4096 };

interface TcpConn {
  chunks: Buffer[];
  length: number;
  done: boolean;
  pending?: Uint8Array;
}

export interface TcpRequestHandlers {
  /** One whole request from `remote` that arrived on `local`: the reply, or undefined to close without one. */
  onRequest: (msg: Buffer, remote: string, local: string) => Uint8Array | undefined;
  /** A connection refused or cut before a request was handled. */
  onDrop: (reason: string) => void;
}

export class TcpListeners {
  private readonly listeners = new Map<string, TCPSocketListener<TcpConn>>();
  /** Open connections over every listener: the limit is the responder's, not per address. */
  private connections = 0;

  constructor(
    private readonly port: number,
    private readonly logger: Logger,
    private readonly handlers: TcpRequestHandlers,
  ) {}

  closeUnwanted(want: ReadonlySet<string>): void {
    for (const [a, l] of this.listeners) {
      if (!want.has(a)) {
        l.stop(true);
        this.listeners.delete(a);
      }
    }
  }

  openMissing(want: ReadonlySet<string>): void {
    for (const a of want) {
      if (this.listeners.has(a)) continue;
      this.listeners.set(a, this.listen(a));
    }
  }

  private listen(address: string): TCPSocketListener<TcpConn> {
    const { onRequest, onDrop } = this.handlers;
    const finish = (s: TcpSocket<TcpConn>) => {
      s.data.done = true;
      s.end();
    };
    return Bun.listen<TcpConn>({
      hostname: address,
      port: this.port,
      socket: {
        open: (s) => {
          s.data = { chunks: [], length: 0, done: false };
          this.connections++;
          if (this.connections > TCP_LIMITS.maxConnections) {
            onDrop("tcp-connections");
            s.data.done = true;
            s.terminate();
            return;
          }
          s.timeout(TCP_LIMITS.idleSeconds);
        },
        close: () => {
          this.connections--;
        },
        timeout: (s) => {
          if (!s.data.done) onDrop("tcp-idle");
          s.terminate();
        },
        error: (s, err) => {
          this.logger.debug("SLP TCP connection error", { err });
          s.terminate();
        },
        drain: (s) => {
          const p = s.data.pending;
          if (!p) return;
          const n = s.write(p);
          s.data.pending = n < p.length ? p.subarray(n) : undefined;
          if (!s.data.pending) s.end();
        },
        data: (s, chunk) => {
          const c = s.data;
          if (c.done) return;
          c.chunks.push(chunk);
          c.length += chunk.length;
          if (c.length < 5) return;
          const head = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
          const declared = (head[2]! << 16) | (head[3]! << 8) | head[4]!;
          if (head[0] !== 2 || declared > TCP_LIMITS.maxRequestBytes || declared < 14 || c.length > declared) {
            onDrop(head[0] !== 2 ? "version" : "tcp-framing");
            return finish(s);
          }
          if (c.length < declared) return;
          // One request per connection (the CVE-2020-3992 pattern was several on one).
          c.done = true;
          const reply = onRequest(head, s.remoteAddress, address);
          if (!reply) return finish(s);
          const n = s.write(reply);
          if (n < reply.length) c.pending = reply.subarray(n);
          else s.end();
        },
      },
    });
  }
}
