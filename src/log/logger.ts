// JSON-lines logger: {time, level, subsystem, msg, ...fields}.
// Human-readable on a TTY. Under journald (stdout is the stream $JOURNAL_STREAM names) each
// entry goes over journald's native socket: MESSAGE is `[subsystem] message key=value …`,
// PRIORITY the level, and every field a journal field of its own (BMC=…, SUBSYSTEM=…). Where
// the socket is missing, the same text goes to stdout as `<N>[subsystem] message key=value …`.
// Either way there is no second timestamp: journald keeps its own.
// Every line passes through the secret redactor, so a secret that reaches a log call by
// mistake is still never written.
import { fstatSync } from "node:fs";
import { type JournalSink, journalFieldName, openJournal } from "./journal.ts";
import { redactSecrets } from "./secrets.ts";
import { isTerminal } from "./terminal.ts";

export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SYSLOG_PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger for a subsystem (`bmc`, `slp`, …) or with extra bound fields. */
  child(subsystem: string, fields?: Fields): Logger;
  enabled(level: Level): boolean;
}

export type LogFormat = "json" | "pretty" | "journal";

export interface LoggerOptions {
  level?: Level;
  format?: LogFormat;
  /** Prefix `<N>` syslog priorities (journald). Default: stdout is the journal stream (underJournald). */
  journal?: boolean;
  write?: (line: string) => void;
  now?: () => Date;
  /** journald's native socket. Default: opened when the format is "journal" and stdout is the journal. */
  journalSink?: JournalSink;
}

export function isLevel(s: string): s is Level {
  return s in LEVELS;
}

function serializeValue(v: unknown): unknown {
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return code === undefined ? v.message : `${v.message} [${String(code)}]`;
  }
  if (typeof v === "bigint") return v.toString();
  return v;
}

/**
 * True when stdout is the journald stream systemd set up: $JOURNAL_STREAM is "DEV:INODE" of it.
 * Checking the inode (as sd_journal_stream_fd(3) advises) keeps `esxkit … > file`, run from a
 * service's shell, writing plain JSON.
 */
export function underJournald(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

let stdoutGuarded = false;

/** The default sink: stdout, where a closed pipe (`… | head`) ends the process quietly. */
function writeStdout(line: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  process.stdout.write(`${line}\n`);
}

/** `key=value …`, logfmt style: values with spaces, quotes or "=" are quoted; never a raw newline. */
function logfmt(fields: Fields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? (/[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(" ");
}

function formatPretty(rec: Fields): string {
  const { time, level, ...rest } = rec;
  return `${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} ${formatJournal(rest)}`;
}

/** One journal MESSAGE: `[subsystem] msg key=value …` (the priority prefix says the level). */
function formatJournal(rec: Fields): string {
  const { time: _t, level: _l, subsystem, msg, ...rest } = rec;
  const extra = logfmt(rest);
  // A newline would split the entry in two under journald's stream protocol.
  return `${subsystem ? `[${String(subsystem)}] ` : ""}${String(msg).replace(/\r?\n/g, "\\n")}${extra ? ` ${extra}` : ""}`;
}

/** The native-protocol fields of one record: the readable MESSAGE, PRIORITY, and each field by name. */
function journalFields(rec: Fields, message: string, priority: number): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ["MESSAGE", message],
    ["PRIORITY", String(priority)],
    ["SYSLOG_IDENTIFIER", "esxkit"],
  ];
  for (const [k, v] of Object.entries(rec)) {
    if (k === "time" || k === "level" || k === "msg") continue;
    out.push([journalFieldName(k), redactSecrets(typeof v === "string" ? v : JSON.stringify(v) ?? String(v))]);
  }
  return out;
}

const FORMATTERS: Record<LogFormat, (rec: Fields) => string> = { json: (rec) => JSON.stringify(rec), pretty: formatPretty, journal: formatJournal };

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = LEVELS[opts.level ?? "info"];
  const journal = opts.journal ?? underJournald();
  const format: LogFormat = opts.format ?? (journal ? "journal" : isTerminal(1) ? "pretty" : "json");
  const formatter = FORMATTERS[format];
  const sink = format === "journal" ? (opts.journalSink ?? (opts.journal === undefined && journal ? openJournal() : undefined)) : undefined;
  const write = opts.write ?? writeStdout;
  const now = opts.now ?? (() => new Date());

  function make(subsystem: string | undefined, bound: Fields): Logger {
    function emit(level: Level, msg: string, fields?: Fields): void {
      if (LEVELS[level] < threshold) return;
      const rec: Fields = { time: now().toISOString(), level };
      if (subsystem) rec.subsystem = subsystem;
      rec.msg = msg;
      for (const [k, v] of Object.entries(bound)) rec[k] = serializeValue(v);
      if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = serializeValue(v);
      let line = formatter(rec);
      line = redactSecrets(line);
      if (sink?.send(journalFields(rec, line, SYSLOG_PRIORITY[level]))) return;
      if (journal) line = `<${SYSLOG_PRIORITY[level]}>${line}`;
      write(line);
    }
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (sub, f) => make(sub, { ...bound, ...f }),
      enabled: (level) => LEVELS[level] >= threshold,
    };
  }
  return make(undefined, {});
}

/** A logger that drops everything (library defaults, tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
  enabled() {
    return false;
  },
};
