// `esxkit console` (the compiled binary) against the control socket's console endpoints:
// list, --log, an attached session that sees the VM's output and types into it, and on a
// terminal (a pty) the Enter ~ B break.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleLogFile } from "../../src/bmc/console/log-file.ts";
import { MachineConsole } from "../../src/bmc/console/machine-console.ts";
import { ConsoleRegistry } from "../../src/bmc/console/registry.ts";
import { type ControlServer, startControlServer } from "../../src/daemon/control.ts";
import { Daemon } from "../../src/daemon/daemon.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { bytePipe, type PipeEnd } from "../support/bmc/byte-pipe.ts";
import { binary, buildBinary, pump, until } from "../support/daemon/serve.ts";
import { onPty } from "../support/ipmi/pty.ts";

/** The CLI, spawned asynchronously: the control server it talks to runs in this process. */
async function cli(args: string[]) {
  const p = Bun.spawn([binary, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

let dir: string;
let socket: string;
let control: ControlServer;
let vm: PipeEnd;
const reg = new ConsoleRegistry();

beforeAll(async () => {
  buildBinary();
  dir = mkdtempSync(join(tmpdir(), "esxkit-console-cli-"));
  socket = join(dir, "run/control.sock");
  const web = new MachineConsole({ name: "web01", ringBytes: 4096, log: new ConsoleLogFile({ dir: join(dir, "console"), name: "web01", maxBytes: 1 << 20, keep: 2, logger: silentLogger }), logger: silentLogger });
  reg.add({ console: web, serviceUri: "esxkit:web01", vm: { by: "name", value: "web01" } });
  reg.add({ console: new MachineConsole({ name: "idle", ringBytes: 64, logger: silentLogger }), serviceUri: "esxkit:idle", vm: { by: "name", value: "idle" } });
  const [vmEnd, hubEnd] = bytePipe();
  vm = vmEnd;
  web.attachVm(hubEnd, "192.0.2.7:902");
  const daemon = new Daemon(join(dir, "none.toml"), silentLogger, { plan: () => [], consoles: () => reg });
  control = await startControlServer(socket, daemon, silentLogger);
});

afterAll(async () => {
  await control?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("lists the consoles, connected or not", async () => {
  const r = await cli(["console", "--socket", socket]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/web01\s+yes\s+192\.0\.2\.7:902/);
  expect(r.out).toMatch(/idle\s+no\s+-/);
});

test("--log prints what the VM wrote while nobody watched", async () => {
  vm.write(new TextEncoder().encode("BIOS POST ok\r\nbooting kernel\r\n"));
  const r = await cli(["console", "web01", "--log", "--socket", socket]);
  expect(r.code).toBe(0);
  expect(r.out).toBe("BIOS POST ok\r\nbooting kernel\r\n");
});

test("--json with a console name is a usage error (exit 2) that says why", async () => {
  const r = await cli(["console", "web01", "--log", "--json", "--socket", socket]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--json does not apply to --log");
});

test("an unknown name is an error that lists the consoles", async () => {
  const r = await cli(["console", "nope", "--socket", socket]);
  expect(r.code).not.toBe(0);
  expect(r.err).toContain('no console named "nope"; consoles: web01, idle');
});

test("an attached session sees the VM's output and its input reaches the VM", async () => {
  const p = Bun.spawn([binary, "console", "web01", "--socket", socket], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let out = "";
  void pump(p.stdout, (c) => (out += c));
  const console = reg.get("web01") as MachineConsole;
  await until("the terminal to attach", () => console.status().watchers.some((w) => w.kind === "terminal"), 10_000);
  vm.write(new TextEncoder().encode("login: "));
  await until("the VM output in the terminal", () => out.includes("login: "), 10_000, () => out);
  const before = vm.text().length;
  p.stdin.write("root\r");
  p.stdin.flush();
  await until("the keystrokes at the VM", () => vm.text().slice(before) === "root\r", 10_000, () => JSON.stringify(vm.text()));
  p.stdin.end();
  expect(await p.exited).toBe(0);
  await until("the watcher to go", () => console.status().watchers.length === 0, 5000);
});

test("on a terminal, Enter ~ B sends the VM one serial break, in order with the keystrokes, and no ~B as text", async () => {
  const before = vm.text().length;
  const breaksBefore = vm.breaks.length;
  const console = reg.get("web01") as MachineConsole;
  const r = await onPty(
    [
      { expect: "attached to web01", timeout: 15 },
      { send: "x\r" },
      { send: "~B" },
      { send: "y" },
      { sleep: 0.3 },
      { send: "\r~." },
      { expect: "detached from web01", timeout: 10 },
      { exit_timeout: 10 },
    ],
    [binary, "console", "web01", "--socket", socket],
    30_000,
  );
  expect(r.ok).toBe(true);
  expect(r.exit_code).toBe(0);
  expect(vm.text().slice(before)).toBe("x\ry\r");
  expect(vm.breaks.slice(breaksBefore)).toEqual([before + 2]);
  expect(console.status()).toMatchObject({ breaks_to_vm: 1, breaks_dropped: 0 });
});

test("a text frame other than the break is no keystroke: it is ignored", async () => {
  const before = vm.text().length;
  const ws = new WebSocket(`ws+unix://${socket}:/v1/console/web01`);
  await new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = () => fail(new Error("console WebSocket did not open"));
  });
  ws.send("typed as text");
  ws.send(new TextEncoder().encode("bin"));
  await until("the binary frame at the VM", () => vm.text().length > before, 5000);
  expect(vm.text().slice(before)).toBe("bin");
  ws.close();
});
