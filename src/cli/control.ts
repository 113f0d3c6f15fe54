// Clients of the running daemon's control socket: status, bmc list, watchdog pause/resume.
import { defineCommand } from "citty";
import { controlRequest } from "../daemon/control.ts";
import { UsageError } from "../errors.ts";
import { configArg, findConfigPath, jsonArg, printJson, printTable } from "./common.ts";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { loadConfig } from "../config/load.ts";
import { DEFAULT_CONTROL_SOCKET } from "../config/schema.ts";
import { parseDuration } from "../watchdog/pause.ts";

const socketArgs = {
  ...configArg,
  socket: { type: "string", description: "control socket (default: daemon.control_socket from the config)", valueHint: "PATH" },
} as const;

function socketPath(args: { socket?: string; config?: string }): string {
  if (args.socket) return args.socket;
  const file = findConfigPath(args.config);
  try {
    return loadConfig(file, { skipSecrets: true }).daemon.control_socket;
  } catch (err) {
    // An invalid file on disk is exactly when one asks the daemon why a reload was rejected.
    const socket = controlSocketOf(file);
    if (socket) return socket;
    throw err;
  }
}

/** daemon.control_socket read from the TOML alone (no validation), or the default. */
function controlSocketOf(file: string): string | undefined {
  try {
    const raw = parseToml(readFileSync(file, "utf8")) as { daemon?: { control_socket?: unknown } };
    const s = raw.daemon?.control_socket;
    if (s === undefined) return DEFAULT_CONTROL_SOCKET;
    return typeof s === "string" ? resolve(dirname(resolve(file)), s) : undefined;
  } catch {
    return undefined;
  }
}

function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`--for: expected a duration like 30m, 2h or 1h30m, got ${JSON.stringify(text)}`);
  }
}

type ServiceStatus = { kind: string; name: string } & Record<string, unknown>;
const cell = (v: unknown) => (v === undefined || v === null ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** What a watchdog's row cannot say: why it waits, split brain, BMCs it will never fence through. */
function watchdogNotes(w: ServiceStatus): string[] {
  const notes: string[] = [];
  if (w.state !== "healthy" && typeof w.reason === "string") notes.push(`${String(w.state)}: ${w.reason}`);
  const ids = (w.bmcIdentity ?? {}) as Record<string, { state?: string; reason?: string }>;
  for (const [host, id] of Object.entries(ids)) if (id.state === "mismatch" || id.state === "unidentified") notes.push(`never fences ${host}: ${id.reason ?? id.state}`);
  return notes;
}

export const status = defineCommand({
  meta: { name: "status", description: "show what the running daemon is doing" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const s = (await controlRequest(socketPath(args), "GET", "/v1/status")) as { version: string; pid: number; config: string; started_at: string; last_reload?: { at: string; ok: boolean }; services: ServiceStatus[]; failed?: Array<{ key: string; error: string }> };
    if (args.json) return printJson(s);
    process.stdout.write(`esxkit ${s.version}, pid ${s.pid}, since ${s.started_at}, config ${s.config}${s.last_reload ? `, last reload ${s.last_reload.at} (${s.last_reload.ok ? "ok" : "rejected"})` : ""}\n\n`);
    const bmcs = s.services.filter((x) => x.kind === "bmc");
    if (bmcs.length) printTable(["BMC", "VM", "LISTEN", "POWER", "SESSIONS", "LAST COMMAND"], bmcs.map((b) => [b.name, cell(b.vm), cell(b.listen), cell(b.powerState), cell(b.sessions), cell(b.lastCommand)]));
    const slps = s.services.filter((x) => x.kind === "slp");
    if (slps.length) printTable(["SLP", "HOST", "REQUESTS", "REPLIES", "DROPS", "LAST REQUEST"], slps.map((e) => [e.name, cell(e.host), cell(e.requests), cell(e.replies), cell(e.drops), cell(e.lastRequest)]));
    const wds = s.services.filter((x) => x.kind === "watchdog");
    if (wds.length) {
      printTable(["WATCHDOG", "VM", "STATE", "HOST", "PAUSED", "LAST TRANSITION"], wds.map((w) => [w.name, cell(w.vm), cell(w.state), cell(w.host), cell(w.paused), cell(w.lastTransition)]));
      for (const w of wds) for (const line of watchdogNotes(w)) process.stdout.write(`${w.name}: ${line}\n`);
    }
    for (const f of s.failed ?? []) process.stdout.write(`FAILED ${f.key}: ${f.error}\n`);
    if (!s.services.length) process.stdout.write("no services running\n");
  },
});

const bmcList = defineCommand({
  meta: { name: "list", description: "list the running virtual BMCs" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const list = (await controlRequest(socketPath(args), "GET", "/v1/bmc")) as ServiceStatus[];
    if (args.json) return printJson(list);
    printTable(["BMC", "VM", "LISTEN", "POWER", "SESSIONS", "LAST COMMAND"], list.map((b) => [b.name, cell(b.vm), cell(b.listen), cell(b.powerState), cell(b.sessions), cell(b.lastCommand)]));
  },
});

export const bmc = defineCommand({ meta: { name: "bmc", description: "virtual BMCs of the running daemon" }, subCommands: { list: bmcList } });

const pause = defineCommand({
  meta: { name: "pause", description: "suspend watchdog actions (planned maintenance)" },
  args: {
    name: { type: "positional", required: false, description: "watchdog name (default: all)" },
    for: { type: "string", description: "resume automatically after this long, e.g. 2h (default: until resumed)", valueHint: "DURATION" },
    ...socketArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const forMs = args.for === undefined ? undefined : durationArg(args.for);
    const r = await controlRequest(socketPath(args), "POST", "/v1/watchdog/pause", { name: args.name, for_ms: forMs });
    if (args.json) return printJson(r);
    process.stdout.write(`paused: ${(r as { watchdogs: string[] }).watchdogs.join(", ")}${args.for ? ` for ${args.for}` : ""}\n`);
  },
});

const resume = defineCommand({
  meta: { name: "resume", description: "resume watchdog actions" },
  args: { name: { type: "positional", required: false, description: "watchdog name (default: all)" }, ...socketArgs, ...jsonArg },
  async run({ args }) {
    const r = await controlRequest(socketPath(args), "POST", "/v1/watchdog/resume", { name: args.name });
    if (args.json) return printJson(r);
    process.stdout.write(`resumed: ${(r as { watchdogs: string[] }).watchdogs.join(", ")}\n`);
  },
});

export const watchdog = defineCommand({ meta: { name: "watchdog", description: "control the running daemon's watchdogs" }, subCommands: { pause, resume } });

export const reload = defineCommand({
  meta: { name: "reload", description: "ask the running daemon to re-read its config (like SIGHUP, but reports the result)" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const r = await controlRequest(socketPath(args), "POST", "/v1/reload");
    if (!(r as { ok: boolean }).ok) process.exitCode = 1;
    if (args.json) return printJson(r);
    const x = r as { ok: boolean; started: string[]; restarted: string[]; stopped: string[]; unchanged: string[]; failed: Array<{ key: string; error: string }> };
    process.stdout.write(`reloaded: ${x.started.length} started, ${x.restarted.length} restarted, ${x.stopped.length} stopped, ${x.unchanged.length} unchanged, ${x.failed.length} failed\n`);
    for (const f of x.failed) process.stderr.write(`error: ${f.key} did not start: ${f.error}\n`);
    if (!x.ok) process.exitCode = 1;
  },
});
