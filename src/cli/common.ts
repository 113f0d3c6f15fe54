// Shared pieces of the thin citty commands: the config flag and its discovery order,
// logger flags, and JSON/table output helpers.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, UsageError } from "../errors.ts";
import type { LoadOptions } from "../config/load.ts";
import { loadServiceConfig } from "../daemon/config-checks.ts";
import type { Config } from "../config/types.ts";
import { type Logger, type LogFormat, createLogger, isLevel } from "../log/logger.ts";

export const configArg = {
  config: {
    type: "string",
    alias: "c",
    description: "config file (default: $ESXKIT_CONFIG, config.toml beside the executable, /etc/esxkit/config.toml)",
    valueHint: "FILE",
  },
} as const;

export const logArgs = {
  "log-level": { type: "string", description: "debug | info | warn | error (default: from the config, else info)", valueHint: "LEVEL" },
  "log-format": { type: "string", description: "json | pretty | journal (default: journal under journald, pretty on a TTY, else json)", valueHint: "FORMAT" },
} as const;

/**
 * Where the config comes from, in order: -c, $ESXKIT_CONFIG, config.toml beside the
 * executable (portable use from a USB stick), /etc/esxkit/config.toml.
 */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.ESXKIT_CONFIG) return env.ESXKIT_CONFIG;
  const candidates: string[] = [];
  // Only a compiled binary has a meaningful "beside the executable"; `bun src/main.ts` is bun itself.
  if (!/(^|\/)bun(-\w+)?$/.test(process.execPath)) candidates.push(join(dirname(process.execPath), "config.toml"));
  candidates.push("/etc/esxkit/config.toml");
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ConfigError(`no config file: pass -c FILE, set $ESXKIT_CONFIG, or create ${candidates.join(" or ")}`, "config", undefined, undefined);
}

export function loadConfigFromArgs(args: { config?: string }, opts: LoadOptions = {}): Config {
  return loadServiceConfig(findConfigPath(args.config), opts);
}

export function loggerFromArgs(args: { "log-level"?: string; "log-format"?: string }, configLevel?: string): Logger {
  const level = args["log-level"] ?? configLevel ?? "info";
  if (!isLevel(level)) throw new UsageError(`--log-level: expected debug, info, warn or error, got ${JSON.stringify(level)}`);
  const format = args["log-format"];
  if (format !== undefined && format !== "json" && format !== "pretty" && format !== "journal") {
    throw new UsageError(`--log-format: expected json, pretty or journal, got ${JSON.stringify(format)}`);
  }
  return createLogger({ level, format: format as LogFormat | undefined });
}

