// An HTTP image server on 127.0.0.1 for virtual-media tests: deterministic images of any size
// (generated, never stored), and the ways an image URL fails in the field.
//
//   /img/<name>?size=N        N bytes (default 1 MiB) derived from <name>, with an ETag
//   /auth/<name>?size=N       the same behind basic auth (user "img", password "s3cret")
//   /status/<code>            that HTTP status
//   /never                    accepts the request and never answers
//   /stall?size=N&after=M     announces N bytes, sends M, then goes silent for good
import { createHash } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const IMAGE_USER = "img";
export const IMAGE_PASSWORD = "s3cret";

/** The bytes of image `name`, in 64 KiB blocks: block i = sha256(name:i) repeated. */
export function imageBlock(name: string, i: number): Uint8Array {
  const seed = createHash("sha256").update(`${name}:${i % 64}`).digest();
  const block = new Uint8Array(65536);
  for (let o = 0; o < block.length; o += seed.length) block.set(seed, o);
  return block;
}

export function imageSha256(name: string, size: number): string {
  const h = createHash("sha256");
  let sent = 0;
  for (let i = 0; sent < size; i++) {
    const b = imageBlock(name, i);
    const n = Math.min(b.length, size - sent);
    h.update(n === b.length ? b : b.subarray(0, n));
    sent += n;
  }
  return h.digest("hex");
}

export interface ImageServer {
  base: string;
  /** GET requests per path. */
  gets: Map<string, number>;
  stop(): Promise<void>;
}

/** Write the image with backpressure. */
async function sendImage(res: ServerResponse, name: string, size: number): Promise<void> {
  let sent = 0;
  for (let i = 0; sent < size && !res.destroyed; i++) {
    const b = imageBlock(name, i);
    const n = Math.min(b.length, size - sent);
    sent += n;
    if (!res.write(n === b.length ? b : b.subarray(0, n))) await new Promise((r) => res.once("drain", r));
  }
  res.end();
}

/**
 * node:http rather than Bun.serve: Bun.serve sends a streamed body chunked and drops its
 * Content-Length, and image servers (nginx, S3, python -m http.server) send one.
 */
export async function startImageServer(): Promise<ImageServer> {
  const gets = new Map<string, number>();
  const hung = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    gets.set(u.pathname, (gets.get(u.pathname) ?? 0) + 1);
    const size = Number(u.searchParams.get("size") ?? 1 << 20);
    const [, kind, name = "x"] = u.pathname.split("/");
    if (kind === "auth") {
      const want = `Basic ${Buffer.from(`${IMAGE_USER}:${IMAGE_PASSWORD}`).toString("base64")}`;
      if (req.headers.authorization !== want) return res.writeHead(401).end("who are you");
    }
    if (kind === "img" || kind === "auth") {
      res.writeHead(200, { "content-length": String(size), etag: `"${name}-${size}"`, "content-type": "application/octet-stream" });
      if (req.method === "HEAD") return res.end();
      return void sendImage(res, name, size);
    }
    if (kind === "status") return res.writeHead(Number(name)).end("no");
    if (kind === "never") return void hung.add(res);
    if (kind === "stall") {
      res.writeHead(200, { "content-length": String(size) });
      res.write(new Uint8Array(Number(u.searchParams.get("after") ?? 65536)));
      return void hung.add(res);
    }
    res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    gets,
    async stop() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
