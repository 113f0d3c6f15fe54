// JSON-lines logger: {time, level, subsystem, msg, ...fields}.
// Human-readable on a TTY; with $JOURNAL_STREAM set, each line gets a syslog priority
// prefix `<N>` so journald files it at the right level.
// Every line passes through the secret redactor, so a secret that reaches a log call by
// mistake is still never written.
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

export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  level?: Level;
  format?: LogFormat;
  /** Prefix `<N>` syslog priorities (journald). Default: $JOURNAL_STREAM is set. */
  journal?: boolean;
  write?: (line: string) => void;
  now?: () => Date;
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

function formatPretty(rec: Fields): string {
  const { time, level, subsystem, msg, ...rest } = rec;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(" ");
  const t = String(time).slice(11, 23);
  return `${t} ${String(level).toUpperCase().padEnd(5)} ${subsystem ? `[${String(subsystem)}] ` : ""}${String(msg)}${extra ? ` ${extra}` : ""}`;
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

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = LEVELS[opts.level ?? "info"];
  // Not process.stdout.isTTY: a CLI command that never logs should not pay for building the
  // stdout stream (most of its start-up time).
  const format: LogFormat = opts.format ?? (isTerminal(1) ? "pretty" : "json");
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
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
      let line = format === "pretty" ? formatPretty(rec) : JSON.stringify(rec);
      line = redactSecrets(line);
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
