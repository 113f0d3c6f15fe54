// Running the compiled binary (`dist/esxkit serve`) from a test: build it, start it (optionally
// inside a network namespace, with a stand-in for systemd's notify socket), read its log,
// and ask it things through its CLI, its control socket and its metrics listener.
import { existsSync } from "node:fs";
import { createSocket } from "node:dgram";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const root = resolve(import.meta.dir, "../../..");
export const binary = join(root, "dist/esxkit");

/** `npm run build`, once per test process. */
let built: boolean | undefined;
export function buildBinary(): void {
  if (built) return;
  const b = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root });
  if (b.exitCode !== 0) throw new Error(`build failed: ${b.stderr.toString()}`);
  built = true;
}

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

export async function pump(stream: ReadableStream<Uint8Array>, sink: (chunk: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk));
}

/** Polls `probe` every 100 ms until it returns something truthy; throws after `ms` with `context()`. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000, context: () => string = () => ""): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await Bun.sleep(100);
  }
}

/** A stand-in for systemd's notify socket at `path`: each datagram is pushed to `into`. */
export async function listenNotify(path: string, into: string[], seconds = 300): Promise<Subprocess<"ignore", "pipe", "inherit">> {
  const notify = Bun.spawn(["/usr/bin/python3", join(root, "test/support/daemon/notify_listener.py"), path, String(seconds)], { stdout: "pipe", stderr: "inherit" });
  let buf = "";
  void pump(notify.stdout, (c) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line !== "ready") into.push(JSON.parse(line) as string);
    }
  });
  await until("the notify listener", () => existsSync(path));
  return notify;
}

export interface ServeProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it wrote so far (JSON lines). */
  log(): string;
  /** Parsed log lines whose msg equals `msg`. */
  lines(msg: string): Array<Record<string, unknown>>;
  /** systemd notifications received (READY=1…, STATUS=…). */
  notifications: string[];
  stop(): Promise<void>;
}

/**
 * Starts `esxkit serve -c config --log-format json`. `netns`: run it inside that namespace
 * (ip netns exec). A notify listener is started when `notifySocket` is given.
 */
export async function startServe(opts: { config: string; cwd: string; env: Record<string, string>; netns?: string; notifySocket?: string }): Promise<ServeProcess> {
  const notifications: string[] = [];
  const notify = opts.notifySocket ? await listenNotify(opts.notifySocket, notifications) : undefined;
  const argv = [binary, "serve", "-c", opts.config, "--log-format", "json"];
  const env = { ...opts.env, ...(opts.notifySocket ? { NOTIFY_SOCKET: opts.notifySocket } : {}) };
  const proc = Bun.spawn(opts.netns ? ["ip", "netns", "exec", opts.netns, ...argv] : argv, { env, cwd: opts.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let log = "";
  void pump(proc.stdout, (c) => (log += c));
  void pump(proc.stderr, (c) => (log += c));
  return {
    proc,
    log: () => log,
    lines: (msg) =>
      log
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === msg),
    notifications,
    async stop() {
      proc.kill("SIGTERM");
      const done = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "timeout")]);
      if (done === "timeout") proc.kill("SIGKILL");
      notify?.kill();
    },
  };
}

/** Runs the binary's CLI (status, reload …) and returns exit code and output. */
export function cli(args: string[], env: Record<string, string>, cwd: string) {
  const p = Bun.spawnSync([binary, ...args], { env, cwd });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
