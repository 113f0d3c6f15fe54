// A vSPC on loopback with a capturing logger and an attach() that records every VM it is offered.
import net from "node:net";
import { createLogger } from "../../src/log/logger.ts";
import type { BytePort } from "../../src/net/byte-port.ts";
import { startVspcServer } from "../../src/vspc/server.ts";
import type { VmIdentity, VspcServer, VspcServerOptions } from "../../src/vspc/types.ts";
import { sleep } from "../support/vspc/vm-endpoint.ts";

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface Harness {
  server: VspcServer;
  port: number;
  logs: LogLine[];
  attached: { identity: VmIdentity; port: BytePort }[];
  close(): Promise<void>;
}

export async function startHarness(over: Partial<VspcServerOptions> & { refuse?: (id: VmIdentity) => boolean } = {}): Promise<Harness> {
  const logs: LogLine[] = [];
  const logger = createLogger({ level: "debug", format: "json", journal: false, write: (l) => logs.push(JSON.parse(l)) });
  const attached: Harness["attached"] = [];
  const server = await startVspcServer({
    address: "127.0.0.1",
    port: 0,
    logger,
    attach(identity, port) {
      if (over.refuse?.(identity)) return false;
      attached.push({ identity, port });
      return true;
    },
    ...over,
  });
  return { server, port: server.address().port, logs, attached, close: () => server.close() };
}

/** Polls until `cond` holds, failing after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A plain TCP client for bytes no VM would send. */
export function rawClient(port: number): { socket: net.Socket; closed: Promise<number>; received: Buffer[] } {
  const socket = net.createConnection({ port, host: "127.0.0.1" });
  const received: Buffer[] = [];
  socket.on("data", (b: Buffer) => received.push(b));
  socket.on("error", () => {});
  const t0 = Date.now();
  const closed = new Promise<number>((r) => socket.on("close", () => r(Date.now() - t0)));
  return { socket, closed, received };
}

export function collect(port: BytePort): { chunks: Uint8Array[]; text(): string; bytes(): Buffer } {
  const chunks: Uint8Array[] = [];
  port.onData((b) => chunks.push(b.slice()));
  return { chunks, text: () => Buffer.concat(chunks).toString("latin1"), bytes: () => Buffer.concat(chunks) };
}
