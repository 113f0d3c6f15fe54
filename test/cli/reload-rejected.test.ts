// `esxkit reload` against a running daemon (the compiled binary) when the new config is
// invalid: a headline with the error code, then the problems exactly as `config check` prints
// them, so the code is never glued to a quoted config line.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { buildBinary, collect, esxkit, freeUdpPort, until } from "../support/config/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-reload-cli-"));
const cfg = join(dir, "config.toml");
const socket = join(dir, "control.sock");
let base = "";
let proc: Subprocess<"ignore", "pipe", "pipe">;

beforeAll(async () => {
  const binary = buildBinary();
  const port = await freeUdpPort();
  base = `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\n\n[[slp]]\nhost = "esx-reload.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${port}\n`;
  writeFileSync(cfg, base, { mode: 0o600 });
  proc = Bun.spawn([binary, "serve", "-c", cfg, "--log-format", "json"], { env: { PATH: process.env.PATH ?? "" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = collect(proc);
  await until("esxkit serving", () => out.text().includes('"esxkit serving"'));
}, 120_000);

afterAll(async () => {
  proc?.kill("SIGTERM");
  await proc?.exited;
  rmSync(dir, { recursive: true, force: true });
});

const HEADLINE = "error: reload rejected: the new config is invalid; the daemon keeps the running one [ESX_CONTROL]\n";

test.each([
  ["a TOML syntax error", "\n[[bmc]]\nport = 0x\n", 1],
  ["one schema problem", '\n[[bmc]]\nvm = "a"\nport = "a"\n', 1],
  ["two problems", '\n[[bmc]]\nvm = "a"\nport = "a"\n\n[[bmc]]\nvm = "b"\nport = "b"\n', 2],
])("%s: the code on the headline, then the problems as config check prints them", (_, broken, problems) => {
  writeFileSync(cfg, base + broken, { mode: 0o600 });
  const check = esxkit(["config", "check", "-c", cfg]);
  expect(check.code).toBe(1);
  expect(check.stderr.match(/^error: /gm)).toHaveLength(problems);
  const r = esxkit(["reload", "--socket", socket]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(HEADLINE + check.stderr);
  // The code tag is on the first line only.
  expect(r.stderr.split("\n").filter((l) => l.includes("[ESX_CONTROL]"))).toEqual([HEADLINE.trimEnd()]);
});

test("other control errors keep the code at the end of their one line", () => {
  const r = esxkit(["reload", "--socket", join(dir, "nobody.sock")]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: cannot reach esxkit's control socket .* \[ESX_CONTROL\]\n$/);
});
