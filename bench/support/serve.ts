// Starts the shipped binary (`dist/esxkit serve`) with a config a user would write, in its own
// scratch directory (state dir and control socket there, so concurrent runs never collide),
// and stops it again. Benchmarks drive it only through its sockets.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { onServerCpu } from "./pin.ts";

export const BINARY = resolve(import.meta.dir, "../../dist/esxkit");

export interface Served {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  dir: string;
  configPath: string;
  /** performance.now() just before the process was spawned. */
  startedAt: number;
  rssKb(): number;
  /** The last 4,000 characters the daemon wrote to stderr (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** `body` is the config after a [daemon] section that points state and control socket into the scratch dir. */
export async function startServe(body: string, env: Record<string, string> = {}, daemonKeys = ""): Promise<Served> {
  if (!(await Bun.file(BINARY).exists())) throw new Error(`${BINARY} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), "esxkit-bench-serve-"));
  const configPath = join(dir, "config.toml");
  writeFileSync(configPath, `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${join(dir, "control.sock")}"\n${daemonKeys}\n${body}`, { mode: 0o600 });
  const startedAt = performance.now();
  const proc = Bun.spawn(onServerCpu([BINARY, "serve", "-c", configPath]), {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env },
  });
  let stderr = "";
  void (async () => {
    for await (const c of proc.stderr) stderr = (stderr + new TextDecoder().decode(c)).slice(-4000);
  })();
  const killer = setTimeout(() => proc.kill("SIGKILL"), 30 * 60_000); // never outlives a stuck bench
  return {
    proc,
    dir,
    configPath,
    startedAt,
    rssKb() {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
        return m ? Number(m[1]) : 0;
      } catch {
        throw new Error(`esxkit serve exited: ${stderr}`);
      }
    },
    log: () => stderr,
    async stop() {
      clearTimeout(killer);
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retries `probe` until it returns true, or throws after `ms`. */
export async function waitUntil(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(20);
  }
  throw new Error(`${what}: not ready within ${ms} ms`);
}
