// `serve` through the compiled binary when daemon.metrics_listen's port is already taken:
// it must say which address is busy and keep serving (SIGHUP reloads, status answers),
// not print a bare "Failed to start server" and hang half-started with no signal handlers.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, collect, esxkit, freeUdpPort, until } from "../support/config/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-metrics-busy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a busy metrics_listen port: one error naming the address, and the daemon keeps serving and reloading", async () => {
  const binary = buildBinary();
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const socket = join(dir, "control.sock");
  const cfg = join(dir, "config.toml");
  const config = (lifetime: number) =>
    `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\nmetrics_listen = "127.0.0.1:${holder.port}"\n\n[[slp]]\nhost = "esx-busy.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${slpPort}\nlifetime = ${lifetime}\n`;
  const slpPort = await freeUdpPort();
  writeFileSync(cfg, config(600), { mode: 0o600 });
  const proc = Bun.spawn([binary, "serve", "-c", cfg, "--log-format", "json"], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
  const out = collect(proc);
  try {
    await until("esxkit serving", () => out.text().includes('"esxkit serving"'), 15_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n--- log ---\n${out.text()}`);
    });
    const line = out.text().split("\n").find((l) => l.includes("metrics listener"));
    expect(line).toBeDefined();
    const rec = JSON.parse(line as string) as { level: string; msg: string; listen: string; error: string };
    expect(rec.level).toBe("error");
    expect(rec.listen).toBe(`127.0.0.1:${holder.port}`);
    expect(rec.error).toContain(`127.0.0.1:${holder.port}/tcp in use (EADDRINUSE)`);
    // SIGHUP must reload (its handler is installed), not kill the process.
    writeFileSync(cfg, config(700), { mode: 0o600 });
    proc.kill("SIGHUP");
    await until("the reload", () => out.text().includes("restarted=1") || out.text().includes('"restarted":1'), 15_000);
    expect(proc.exitCode).toBeNull();
    expect(esxkit(["status", "--socket", socket, "--json"]).code).toBe(0);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    holder.stop(true);
  }
}, 60_000);
