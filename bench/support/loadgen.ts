// The C UDP load generator (udp-loadgen.c), compiled with cc on first use, and the two echo
// servers the SLP figures are compared with: the C one (the generator's own ceiling) and the
// plain Bun one (the runtime's ceiling for one datagram in, one out).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { onGeneratorCpu, onServerCpu } from "./pin.ts";

const SOURCE = resolve(import.meta.dir, "udp-loadgen.c");
let compiled: string | undefined;

export function loadgenBinary(): string {
  if (compiled) return compiled;
  const out = join(mkdtempSync(join(tmpdir(), "esxkit-bench-loadgen-")), "udp-loadgen");
  const r = Bun.spawnSync(["cc", "-O2", "-Wall", "-o", out, SOURCE], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cc udp-loadgen.c failed: ${r.stderr.toString()}`);
  compiled = out;
  return out;
}

export interface LoadResult {
  sent: number;
  received: number;
  lost: number;
  seconds: number;
  rps: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

/** Sends `total` copies of `template` (id at `idOffset`) to 127.0.0.1:port, `window` in flight. */
export async function runLoad(port: number, template: Uint8Array, o: { idOffset: number; total: number; window: number; warmup: number; hexIdOffset?: number }): Promise<LoadResult> {
  const p = Bun.spawn(onGeneratorCpu([loadgenBinary(), "client", "127.0.0.1", String(port), Buffer.from(template).toString("hex"), String(o.idOffset), String(o.total), String(o.window), String(o.warmup), ...(o.hexIdOffset === undefined ? [] : [String(o.hexIdOffset)])]), {
    stdout: "pipe",
    stderr: "inherit",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  const out = await new Response(p.stdout).text();
  await p.exited;
  clearTimeout(timer);
  if (p.exitCode !== 0) throw new Error(`udp-loadgen exited ${p.exitCode}`);
  return JSON.parse(out) as LoadResult;
}

export interface EchoServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startReady(cmd: string[], port: number): Promise<EchoServer> {
  const p: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(onServerCpu(cmd), { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
  const { value } = await reader.read();
  clearTimeout(timer);
  if (!value || !new TextDecoder().decode(value).includes("ready")) throw new Error(`${cmd.join(" ")} did not start`);
  return {
    port,
    pid: p.pid,
    async stop() {
      p.kill("SIGTERM");
      await p.exited;
    },
  };
}

export const startCEcho = (port: number) => startReady([loadgenBinary(), "echo", String(port)], port);
export const startBunEcho = (port: number) => startReady([process.execPath, resolve(import.meta.dir, "bun-udp-echo.ts"), String(port)], port);
