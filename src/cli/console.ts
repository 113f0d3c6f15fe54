// `esxkit console`: a VM's serial console through the running daemon's control socket.
//   esxkit console            which consoles there are, connected or not
//   esxkit console NAME       attach this terminal (Enter ~ . detaches, Enter ~ B sends a break)
//   esxkit console NAME --log what the VM wrote, from the kept log, also while nobody watched
import { defineCommand } from "citty";
import { BREAK_FRAME } from "../daemon/console-control.ts";
import { controlFetch, controlRequest } from "../daemon/control.ts";
import { ControlError, UsageError } from "../errors.ts";
import { join } from "node:path";
import { readConsoleLog } from "../bmc/console/log-file.ts";
import { loadConfig } from "../config/load.ts";
import { findConfigPath } from "./common.ts";
import { socketArgs, socketPath } from "./control.ts";
import { jsonArg, printJson, printTable, stderr, stdout } from "./output.ts";
import { type SavedTerminal, saveTerminal } from "./terminal-output.ts";

const OPEN_DEADLINE_MS = 5000;
const CR = 0x0d;
const LF = 0x0a;
const TILDE = 0x7e;
const DOT = 0x2e;
const UPPER_B = 0x42;
/** Signals that end an attached session (the terminal's settings are put back first), by number. */
const ENDING_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;

type ConsoleRow = { name: string; connected: boolean; peer?: string; bytes_from_vm: number; bytes_to_vm: number; watchers: unknown[] };

/** What the terminal's input turns into: keystrokes for the VM, or a serial break. */
export type ConsoleInput = { kind: "bytes"; bytes: Uint8Array } | { kind: "break" };

/**
 * The ssh-style escapes, right after Enter (or first thing): "~." detaches, "~B" sends a serial
 * break (as ipmitool's and ssh's ~B), "~~" sends one "~". Returns what to send, in order, and
 * whether to detach; keeps its state across chunks.
 */
export class EscapeDetector {
  #atLineStart = true;
  #sawTilde = false;

  feed(input: Uint8Array): { send: ConsoleInput[]; detach: boolean } {
    const send: ConsoleInput[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length) send.push({ kind: "bytes", bytes: Uint8Array.from(run) });
      run = [];
    };
    for (const b of input) {
      if (this.#sawTilde) {
        this.#sawTilde = false;
        if (b === DOT) {
          flush();
          return { send, detach: true };
        }
        if (b === UPPER_B) {
          // Still at the start of a line, as in ipmitool: "~B~B" is two breaks, "~B~." detaches.
          flush();
          send.push({ kind: "break" });
          continue;
        }
        run.push(TILDE);
        if (b === TILDE) {
          this.#atLineStart = false;
          continue;
        }
      } else if (b === TILDE && this.#atLineStart) {
        this.#sawTilde = true;
        continue;
      }
      run.push(b);
      this.#atLineStart = b === CR || b === LF;
    }
    flush();
    return { send, detach: false };
  }
}

async function printLog(socket: string, name: string): Promise<void> {
  const res = await controlFetch(socket, "GET", `/v1/console/${encodeURIComponent(name)}/log`, undefined, 10_000);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length) process.stdout.write(bytes);
}

function attach(socket: string, name: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws+unix://${socket}:/v1/console/${encodeURIComponent(name)}`);
    ws.binaryType = "arraybuffer";
    const tty = process.stdin.isTTY === true;
    const escape = new EscapeDetector();
    let opened = false;
    let done = false;
    // stdout's terminal as it was before raw mode: put back whichever way the session ends.
    let terminal: SavedTerminal | undefined;
    const restoreTerminal = () => {
      if (tty) process.stdin.setRawMode(false);
      terminal?.restore();
    };
    const onSignal = Object.entries(ENDING_SIGNALS).map(([signal, n]) => [signal, () => finish(128 + n, `[${signal}: detached from ${name}]`)] as const);
    const finish = (code: number, line?: string) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      restoreTerminal();
      for (const [signal, handler] of onSignal) process.off(signal, handler);
      process.off("exit", restoreTerminal);
      process.stdin.pause();
      if (line) stderr(`${tty || terminal ? "\r\n" : ""}${line}\n`);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      resolve(code);
    };
    const deadline = setTimeout(() => finish(1, `esxkit: console "${name}" did not open within ${OPEN_DEADLINE_MS / 1000} s`), OPEN_DEADLINE_MS);
    ws.onopen = () => {
      opened = true;
      clearTimeout(deadline);
      for (const [signal, handler] of onSignal) process.on(signal, handler);
      // An exception or process.exit() elsewhere must not leave the terminal raw either.
      process.on("exit", restoreTerminal);
      terminal = saveTerminal(1);
      if (tty) process.stdin.setRawMode(true);
      terminal?.outputProcessingOff();
      if (tty) stderr(`[attached to ${name}; Enter ~ . detaches, Enter ~ B sends a break]\r\n`);
      process.stdin.on("data", (chunk: Buffer) => {
        const { send, detach } = tty ? escape.feed(chunk) : { send: [{ kind: "bytes", bytes: new Uint8Array(chunk) } as const], detach: false };
        for (const s of send) ws.send(s.kind === "bytes" ? s.bytes : BREAK_FRAME);
        if (detach) finish(0, `[detached from ${name}]`);
      });
      // Piped input ran out: what was typed has been sent, the session ends.
      process.stdin.on("end", () => setTimeout(() => finish(0), 200));
      process.stdin.resume();
    };
    ws.onmessage = (ev) => {
      process.stdout.write(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = (ev) => {
      if (!opened) finish(1, `esxkit: cannot attach to console "${name}"`);
      else finish(ev.code === 1000 ? 0 : 1, ev.reason ? `[console closed: ${ev.reason}]` : `[console closed]`);
    };
  });
}

/** `--log` without a running daemon: the files under state_dir/console, when the config names the console. */
function printLogFromDisk(configFlag: string | undefined, name: string): boolean {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(findConfigPath(configFlag), { skipSecrets: true });
  } catch {
    return false;
  }
  const bmc = config.bmc.find((b) => b.name === name && b.serial);
  if (!bmc || !config.console) return false;
  stderr(`esxkit: the daemon is not running; showing the log files under ${join(config.daemon.state_dir, "console")}\n`);
  const bytes = readConsoleLog(join(config.daemon.state_dir, "console"), bmc.name, config.console.log_files);
  if (bytes.length) process.stdout.write(bytes);
  return true;
}

export default defineCommand({
  meta: {
    name: "console",
    examples: ["esxkit console", "esxkit console web01", "esxkit console web01 --log | less -R"],
    description: "a VM's serial console through the running daemon (BMCs with serial = true)",
  },
  args: {
    ...socketArgs,
    ...jsonArg,
    name: {
      type: "positional",
      required: false,
      description: "the [[bmc]] name: attaches this terminal to its serial console (after Enter, ~ . detaches, ~ B sends a serial break, ~ ~ types one ~); without it, list the consoles",
      valueHint: "NAME",
    },
    log: { type: "boolean", description: "print the kept console log (rotated files, oldest first) and exit" },
  },
  async run({ args }) {
    if (args.json && args.name) throw new UsageError(args.log ? "--json does not apply to --log: the log is the VM's raw output" : "--json applies to the list (esxkit console --json), not to an attached console");
    const socket = socketPath(args);
    let list: ConsoleRow[];
    try {
      list = (await controlRequest(socket, "GET", "/v1/console")) as ConsoleRow[];
    } catch (err) {
      // The daemon is down, but what the VM wrote is still on disk: --log reads it there.
      if (args.log && args.name && printLogFromDisk(args.config, String(args.name))) return;
      throw err;
    }
    if (!args.name) {
      if (args.json) return printJson(list);
      if (list.length === 0) return stdout("no consoles: no [[bmc]] has serial = true\n");
      return printTable(["NAME", "CONNECTED", "FROM", "BYTES FROM VM", "BYTES TO VM", "WATCHERS"], list.map((c) => [c.name, c.connected ? "yes" : "no", c.peer ?? "-", String(c.bytes_from_vm), String(c.bytes_to_vm), String(c.watchers.length)]));
    }
    const name = String(args.name);
    if (!list.some((c) => c.name === name)) {
      throw new ControlError(`no console named "${name}"${list.length ? `; consoles: ${list.map((c) => c.name).join(", ")}` : "; no [[bmc]] has serial = true"}`);
    }
    if (args.log) return printLog(socket, name);
    process.exitCode = await attach(socket, name);
  },
});
