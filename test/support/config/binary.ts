// The compiled binary, built once per test process (`npm run build` → dist/esxkit): the
// deployed form is what these tests exercise.
import { binary, buildBinary as build, freePort, root } from "../daemon/serve.ts";

export { binary, root };

/** Builds dist/esxkit once per test process (shared with every other helper); returns its path. */
export function buildBinary(): string {
  build();
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
export const freeUdpPort = (): Promise<number> => freePort("udp4");

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
