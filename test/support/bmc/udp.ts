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
