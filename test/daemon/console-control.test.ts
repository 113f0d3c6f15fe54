// `esxkit console` (the compiled binary) against the control socket's console endpoints:
// list, --log, an attached session that sees the VM's output and types into it, and on a
// terminal (a pty) the Enter ~ B break and the terminal's output settings.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
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

// On a pty, run from a shell that records the terminal's settings before and after: the VM's
// "\r\n" must reach the screen as it is (no ONLCR "\r\r\n"), and whichever way the session ends
// the terminal must be left exactly as it was found, before esxkit's last line is printed. (Bun
// puts a terminal's settings back by itself when the process exits, and setRawMode(false) does
// when stdin is the terminal; with stdin a pipe, a FIFO the test holds, only esxkit's restore
// makes that last line right.)
const TTY_SCRIPT = `tty > "$0.tty"; stty -g; if [ -p "$0.fifo" ]; then "$@" < "$0.fifo" & else "$@" </dev/tty & fi; echo $! > "$0.pid"; wait $!; echo "== exit $?"; stty -g; stty -a`;

interface TtyRun {
  console: MachineConsole;
  pid: number;
  /** Closes the test's end of the FIFO on esxkit's stdin (stdin: "fifo"): its input ends. */
  closeFifo(): void;
}

test.each([
  { how: "detach (Enter ~ .)", name: "tty-detach", stdin: "tty", keys: "\r~.", code: 0, end: (_r: TtyRun) => {}, says: "[detached from tty-detach]" },
  { how: "the daemon closing the console", name: "tty-gone", stdin: "tty", code: 1, end: (r: TtyRun) => r.console.close("BMC removed"), says: "[console closed: BMC removed]" },
  { how: "SIGTERM", name: "tty-signal", stdin: "tty", code: 143, end: (r: TtyRun) => process.kill(r.pid, "SIGTERM"), says: "[SIGTERM: detached from tty-signal]" },
  { how: "SIGTERM, stdin a pipe", name: "pipe-signal", stdin: "fifo", code: 143, end: (r: TtyRun) => process.kill(r.pid, "SIGTERM"), says: "[SIGTERM: detached from pipe-signal]" },
  { how: "the end of piped input", name: "pipe-end", stdin: "fifo", code: 0, end: (r: TtyRun) => r.closeFifo() },
  { how: "the daemon closing the console, stdin a pipe", name: "pipe-gone", stdin: "fifo", code: 1, end: (r: TtyRun) => r.console.close("BMC removed"), says: "[console closed: BMC removed]" },
])("on a terminal the VM's CR LF arrives as it was sent; after $how the terminal's settings are back", async ({ name, stdin, keys, code, end, says }) => {
  const c = new MachineConsole({ name, ringBytes: 256, logger: silentLogger });
  reg.add({ console: c, serviceUri: `esxkit:${name}`, vm: { by: "name", value: name } });
  const [vmSide, hubSide] = bytePipe();
  c.attachVm(hubSide, "192.0.2.8:902");
  const base = join(dir, `pty-${name}`);
  let fifo: number | undefined;
  if (stdin === "fifo") {
    expect(Bun.spawnSync(["mkfifo", `${base}.fifo`]).exitCode).toBe(0);
    // Read and write: opening a FIFO so does not wait for the reader (Linux).
    fifo = openSync(`${base}.fifo`, "r+");
  }
  const closeFifo = () => {
    if (fifo !== undefined) closeSync(fifo);
    fifo = undefined;
  };
  const pty = onPty(
    [
      { expect: "MARK-a\r\nb-END", timeout: 15 },
      { touch: `${base}.shown` },
      ...(keys ? [{ send: keys }] : []),
      { expect: "== exit \\d+", timeout: 15 },
      { exit_timeout: 10 },
    ],
    ["sh", "-c", TTY_SCRIPT, base, binary, "console", name, "--socket", socket],
    40_000,
  );
  try {
    await until("the terminal to attach", () => c.status().watchers.length === 1, 15_000);
    const during = Bun.spawnSync(["stty", "-a", "-F", readFileSync(`${base}.tty`, "utf8").trim()]).stdout.toString();
    expect(during).toMatch(/(^|\s)-opost(\s|$)/);
    vmSide.write(new TextEncoder().encode("MARK-a\r\nb-END"));
    await until("the output on the screen", () => existsSync(`${base}.shown`), 15_000);
    end({ console: c, pid: Number(readFileSync(`${base}.pid`, "utf8").trim()), closeFifo });
  } finally {
    closeFifo();
  }
  const r = await pty;
  expect(r.ok).toBe(true);
  expect(r.output).toContain("MARK-a\r\nb-END");
  // Said once the settings are back, so its "\n" is shown as a new line again.
  if (says) expect(r.output).toContain(`${says}\r\n`);
  const before = r.output.slice(0, r.output.indexOf("\r\n"));
  const [, exit, settingsAfter, after] = /== exit (\d+)\r\n([^\r]*)\r\n([\s\S]*)$/.exec(r.output) ?? [];
  expect(Number(exit)).toBe(code);
  // stty -g before the session and after it: the same settings, every flag.
  expect(settingsAfter).toBe(before);
  expect(after).toMatch(/(^|\s)opost(\s|$)/);
  expect(after).toMatch(/(^|\s)onlcr(\s|$)/);
});
