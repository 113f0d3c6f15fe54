// The compiled binary, built once per test process (`npm run build` → dist/esxkit): the
// deployed form is what these tests exercise.
import { join } from "node:path";

export const root = join(import.meta.dir, "../../..");
export const binary = join(root, "dist/esxkit");
let built = false;

export function buildBinary(): string {
  if (built) return binary;
  const p = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`npm run build failed: ${p.stderr.toString()}`);
  built = true;
  return binary;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/esxkit with a clean environment plus `env`. */
export function esxkit(args: string[], env: Record<string, string> = {}, cwd = root): Run {
  const p = Bun.spawnSync([buildBinary(), ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env }, cwd, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const { createSocket } = await import("node:dgram");
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Polls `f` until it returns something truthy; throws after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Collects a child's stdout and stderr into one growing string, read through `text()`. */
export function collect(proc: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array> }): { text(): string } {
  let log = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const c of s) log += d.decode(c);
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return { text: () => log };
}
