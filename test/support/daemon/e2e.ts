// Helpers for tests that drive the compiled binary from outside: free ports, a poll with a
// deadline that shows the daemon's log when it gives up, and stream pumps.
import { createSocket } from "node:dgram";

export async function freePort(type: "udp4" | "tcp" = "udp4"): Promise<number> {
  if (type === "tcp") {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const p = s.port;
    s.stop(true);
    return p;
  }
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Polls `probe` until it gives a truthy value; on timeout the error carries the tail of `log()`. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000, log: () => string = () => ""): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- esxkit log ---\n${log().slice(-3000)}`);
    await Bun.sleep(100);
  }
}

export async function pump(stream: ReadableStream<Uint8Array>, sink: (chunk: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk));
}
