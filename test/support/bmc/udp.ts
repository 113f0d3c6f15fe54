// One datagram to a BMC on loopback and its answer, with a deadline.
import { createSocket } from "node:dgram";

export async function exchange(port: number, datagram: Uint8Array, timeoutMs = 3000): Promise<Uint8Array> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
      s.once("message", (m) => {
        clearTimeout(timer);
        resolve(new Uint8Array(m));
      });
      s.send(datagram, port, "127.0.0.1");
    });
  } finally {
    s.close();
  }
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/[\s|]/g, ""), "hex"));

export interface LossyRelay {
  /** The port clients talk to instead of the BMC's. */
  port: number;
  /** Replies dropped so far. */
  dropped(): number;
  close(): Promise<void>;
}

/**
 * A UDP relay on 127.0.0.1 in front of a BMC that drops the first reply for which
 * `dropReply()` says yes: a reply lost on the way back, so the client has to retransmit.
 * (RMCP+ replies are encrypted: the test decides by what the BMC has done, not by content.)
 */
export async function lossyRelay(bmcPort: number, dropReply: () => boolean): Promise<LossyRelay> {
  const front = createSocket("udp4");
  await new Promise<void>((r) => front.bind(0, "127.0.0.1", () => r()));
  const upstreams = new Map<string, ReturnType<typeof createSocket>>();
  let dropped = 0;
  front.on("message", (m, client) => {
    const key = `${client.address}:${client.port}`;
    let up = upstreams.get(key);
    if (!up) {
      const sock = createSocket("udp4");
      sock.on("message", (reply) => {
        if (dropped === 0 && dropReply()) {
          dropped++;
          return;
        }
        front.send(reply, client.port, client.address);
      });
      upstreams.set(key, sock);
      up = sock;
    }
    up.send(m, bmcPort, "127.0.0.1");
  });
  return {
    port: front.address().port,
    dropped: () => dropped,
    async close() {
      for (const s of upstreams.values()) await new Promise<void>((r) => s.close(() => r()));
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}
