// Clients of the running daemon's control socket: status, bmc list, watchdog pause/resume.
import { defineCommand } from "citty";
import { controlRequest } from "../daemon/control.ts";
import { UsageError } from "../errors.ts";
import { configArg, findConfigPath } from "./common.ts";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { loadConfig } from "../config/load.ts";
import { DEFAULT_CONTROL_SOCKET } from "../config/schema.ts";
import { parseDuration } from "../watchdog/pause.ts";
import { formatLastCommand } from "./last-command.ts";
import { jsonArg, printJson, printTable, stderr, stdout } from "./output.ts";

export const socketArgs = {
  ...configArg,
  socket: { type: "string", description: "control socket (default: daemon.control_socket from the config)", valueHint: "PATH" },
} as const;

export function socketPath(args: { socket?: string; config?: string }): string {
  if (args.socket) return args.socket;
  let file: string;
  try {
    file = findConfigPath(args.config);
  } catch (err) {
    // No config anywhere (a jump host where serve runs with -c elsewhere): the default socket.
    if (args.config === undefined) return DEFAULT_CONTROL_SOCKET;
    throw err;
  }
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

type ServiceStatus = { kind: string; name: string; up?: boolean; down?: { error: string; attempts: number; next_attempt_at: string } } & Record<string, unknown>;
type StatusReply = {
  ok?: boolean;
  summary?: string;
  version: string;
  pid: number;
  config: string;
  started_at: string;
  last_reload?: { at: string; ok: boolean };
  services: ServiceStatus[];
  connections?: Array<{ kind: string; name: string; connected: boolean; last_sync?: string; last_error?: string }>;
};
const cell = (v: unknown) => (v === undefined || v === null ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));
/** Authenticated sessions, and setups under way when there are any: "2", "2 +5 pending". */
const sessionsCell = (b: ServiceStatus) => `${cell(b.sessions)}${typeof b.pendingSessions === "number" && b.pendingSessions > 0 ? ` +${b.pendingSessions} pending` : ""}`;
const solCell = (sol: unknown) => {
  const x = sol as { active?: boolean; user?: string; peer?: string } | undefined;
  return !x ? "-" : x.active ? `active: ${x.user ?? "?"} from ${x.peer ?? "?"}` : "inactive";
};
const bmcRow = (b: ServiceStatus, now: number) => [b.name, cell(b.vm), cell(b.listen), cell(b.powerState), sessionsCell(b), formatLastCommand(b.lastCommand, now)];

/** What a watchdog's row cannot say: why it waits, split brain, BMCs it will never fence through. */
function watchdogNotes(w: ServiceStatus): string[] {
  const notes: string[] = [];
  if (w.state !== "healthy" && typeof w.reason === "string") notes.push(`${String(w.state)}: ${w.reason}`);
  const ids = (w.bmcIdentity ?? {}) as Record<string, { state?: string; reason?: string }>;
  for (const [host, id] of Object.entries(ids)) if (id.state === "mismatch" || id.state === "unidentified") notes.push(`never fences ${host}: ${id.reason ?? id.state}`);
  return notes;
}

export const status = defineCommand({
  meta: { name: "status", examples: ["esxkit status", "esxkit status --json -c /etc/esxkit/config.toml"], description: "show what the running daemon is doing" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const s = (await controlRequest(socketPath(args), "GET", "/v1/status")) as StatusReply;
    // Exit 1 while anything is down, so scripts and monitoring can rely on it (--json too).
    if (s.ok === false) process.exitCode = 1;
    if (args.json) return printJson(s);
    stdout(`esxkit ${s.version}, pid ${s.pid}, since ${s.started_at}, config ${s.config}${s.last_reload ? `, last reload ${s.last_reload.at} (${s.last_reload.ok ? "ok" : "rejected"})` : ""}\n\n`);
    const bmcs = s.services.filter((x) => x.kind === "bmc");
    if (bmcs.length) printTable(["BMC", "VM", "LISTEN", "POWER", "SESSIONS", "LAST COMMAND"], bmcs.map((b) => bmcRow(b, Date.now())));
    // Serial BMCs: who holds the SOL payload (one per BMC) and whether the VM's port is wired.
    const serialBmcs = bmcs.filter((b) => b.sol !== undefined || b.serial !== undefined);
    if (serialBmcs.length) printTable(["BMC", "SOL", "SERIAL PORT"], serialBmcs.map((b) => [b.name, solCell(b.sol), cell((b.serial as { wiring?: { state?: string; detail?: string } } | undefined)?.wiring?.state)]));
    for (const r of s.services.filter((x) => x.kind === "redfish")) {
      printTable(["REDFISH", "LISTEN", "SYSTEMS", "SESSIONS", "TASKS", "THUMBPRINT"], [[r.name, cell(r.listen), cell(r.systems), cell(r.sessions), cell(r.tasks), cell(r.thumbprint)]]);
      const media = (r.media as Array<Record<string, unknown>> | undefined) ?? [];
      const progress = (m: Record<string, unknown>) => (m.total ? `${cell(m.bytes)}/${cell(m.total)} B (${Math.floor((100 * Number(m.bytes)) / Number(m.total))}%)` : `${cell(m.bytes)} B`);
      if (media.length) printTable(["SYSTEM", "DEVICE", "IMAGE", "TRANSFER", "PROGRESS", "CONNECTED"], media.map((m) => [cell(m.system), cell(m.device), cell(m.image), cell(m.error ? `${m.transfer}: ${m.error}` : m.transfer), progress(m), cell(m.connected)]));
    }
    for (const v of s.services.filter((x) => x.kind === "console")) {
      printTable(["VSPC", "LISTEN", "CONNECTIONS", "VMOTIONS", "REFUSED"], [[v.name, cell(v.listen), cell(v.connections), `${cell(v.vmotionsCompleted)} done, ${cell(v.vmotionsAborted)} aborted`, cell(v.refused)]]);
      const rows = (v.consoles as Array<Record<string, unknown>> | undefined) ?? [];
      const watchers = (c: Record<string, unknown>) => ((c.watchers as Array<{ kind: string; who: string }> | undefined) ?? []).map((w) => `${w.kind} ${w.who}`).join(", ") || "-";
      if (rows.length) printTable(["CONSOLE", "CONNECTED", "FROM", "BYTES FROM VM", "BYTES TO VM", "WATCHERS"], rows.map((c) => [cell(c.name), c.connected ? "yes" : "no", cell(c.peer), cell(c.bytes_from_vm), cell(c.bytes_to_vm), watchers(c)]));
    }
    const slps = s.services.filter((x) => x.kind === "slp");
    if (slps.length) printTable(["SLP", "HOST", "REQUESTS", "REPLIES", "DROPS", "LAST REQUEST"], slps.map((e) => [e.name, cell(e.host), cell(e.requests), cell(e.replies), cell(e.drops), cell(e.lastRequest)]));
    const wds = s.services.filter((x) => x.kind === "watchdog");
    if (wds.length) {
      printTable(["WATCHDOG", "VM", "STATE", "HOST", "PAUSED", "LAST TRANSITION"], wds.map((w) => [w.name, cell(w.vm), cell(w.state), cell(w.host), cell(w.paused), cell(w.lastTransition)]));
      for (const w of wds) for (const line of watchdogNotes(w)) stdout(`${w.name}: ${line}\n`);
    }
    const conns = s.connections ?? [];
    if (conns.length) printTable(["CONNECTION", "NAME", "CONNECTED", "LAST SYNC", "LAST ERROR"], conns.map((c) => [c.kind, c.name, c.connected ? "yes" : "no", cell(c.last_sync), cell(c.last_error)]));
    for (const x of s.services) if (x.down) stdout(`DOWN ${x.kind} ${x.name}: ${x.down.error} (attempt ${x.down.attempts}, next at ${x.down.next_attempt_at})\n`);
    if (!s.services.length) stdout("no services configured\n");
    if (s.summary && s.ok === false) stdout(`\nunhealthy: ${s.summary}\n`);
  },
});

const bmcList = defineCommand({
  meta: { name: "list", examples: ["esxkit bmc list", "esxkit bmc list --json"], description: "list the running virtual BMCs" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const list = (await controlRequest(socketPath(args), "GET", "/v1/bmc")) as ServiceStatus[];
    if (args.json) return printJson(list);
    printTable(["BMC", "VM", "LISTEN", "POWER", "SESSIONS", "LAST COMMAND"], list.map((b) => bmcRow(b, Date.now())));
  },
});

export const bmc = defineCommand({ meta: { name: "bmc", examples: ["esxkit bmc list"], description: "virtual BMCs of the running daemon" }, subCommands: { list: bmcList } });

const pause = defineCommand({
  meta: { name: "pause", examples: ["esxkit watchdog pause vcsa --for 2h", "esxkit watchdog pause"], description: "suspend watchdog actions (planned maintenance)" },
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
    stdout(`paused: ${(r as { watchdogs: string[] }).watchdogs.join(", ")}${args.for ? ` for ${args.for}` : ""}\n`);
  },
});

const resume = defineCommand({
  meta: { name: "resume", examples: ["esxkit watchdog resume vcsa", "esxkit watchdog resume"], description: "resume watchdog actions" },
  args: { name: { type: "positional", required: false, description: "watchdog name (default: all)" }, ...socketArgs, ...jsonArg },
  async run({ args }) {
    const r = await controlRequest(socketPath(args), "POST", "/v1/watchdog/resume", { name: args.name });
    if (args.json) return printJson(r);
    stdout(`resumed: ${(r as { watchdogs: string[] }).watchdogs.join(", ")}\n`);
  },
});

export const watchdog = defineCommand({ meta: { name: "watchdog", examples: ["esxkit watchdog pause vcsa --for 2h"], description: "control the running daemon's watchdogs" }, subCommands: { pause, resume } });

export const reload = defineCommand({
  meta: { name: "reload", examples: ["esxkit reload", "systemctl reload esxkit"], description: "ask the running daemon to re-read its config (like SIGHUP, but reports the result)" },
  args: { ...socketArgs, ...jsonArg },
  async run({ args }) {
    const r = await controlRequest(socketPath(args), "POST", "/v1/reload");
    if (!(r as { ok: boolean }).ok) process.exitCode = 1;
    if (args.json) return printJson(r);
    const x = r as { ok: boolean; started: string[]; restarted: string[]; stopped: string[]; unchanged: string[]; failed: Array<{ key: string; error: string }> };
    stdout(`reloaded: ${x.started.length} started, ${x.restarted.length} restarted, ${x.stopped.length} stopped, ${x.unchanged.length} unchanged, ${x.failed.length} failed\n`);
    for (const f of x.failed) stderr(`error: ${f.key} did not start: ${f.error}\n`);
    if (!x.ok) process.exitCode = 1;
  },
});
