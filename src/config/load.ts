// config.toml → typed Config: strict UTF-8, smol-toml, the valibot schema, then the
// cross-field rules. Every problem becomes a ConfigError with file, line, key path and a caret.
// Problems are reported in (at most) three rounds, each complete: a TOML syntax error alone
// (nothing after it can be read); then every problem of form (the schema: types, ranges,
// unknown and missing keys); then, once the form is right, every rule between keys, secret,
// file, state_dir and subsystem check (the rules need values of the right type to judge).
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { TomlError, parse as parseToml } from "smol-toml";
import * as v from "valibot";
import { ConfigError, SecretError } from "../errors.ts";
import { codeblock, elementColumn, firstMentions, formatPath, type KeyPosition, locateKeys, positionOf } from "./locate.ts";
import { isSecretPath, kindOf, maskSecretLines } from "./mask.ts";
import { configSchema, type RawConfig } from "./schema.ts";
import { type SecretContext, checkSecretRef, resolveSecret, secretKind } from "./secrets.ts";
import { stateDirProblem } from "./state-dir.ts";
import { closest } from "./suggest.ts";
import type { Config } from "./types.ts";
import { buildConfig } from "./build.ts";

type Segment = string | number;

/** Collects problems with their places; `fail()` throws them all as one ConfigError. */
export class ProblemList {
  readonly problems: ConfigError[] = [];
  // Built once, on the first problem: every add() is then independent of the file's size.
  private index: { positions: Map<string, KeyPosition>; first?: Map<string, KeyPosition>; lines: string[] } | undefined;
  constructor(
    readonly file: string,
    readonly source: string,
  ) {}

  add(path: Segment[], detail: string, atValue = true): void {
    if (!this.index) {
      const positions = locateKeys(this.source);
      this.index = { positions, lines: maskSecretLines(sourceLines(this.source)) };
    }
    const index = this.index;
    // Only a path never written itself needs the first-mention index (built once, on demand).
    const full = formatPath(path);
    if (full && !index.positions.has(full)) index.first ??= firstMentions(index.positions);
    const pos = positionOf(index.positions, path, index.first);
    let col = pos ? (atValue && pos.valueColumn ? pos.valueColumn : pos.column) : 0;
    const last = path[path.length - 1];
    if (pos && atValue && typeof last === "number" && pos.valueColumn) col = elementColumn(index.lines[pos.line - 1] ?? "", col, last);
    const block = pos ? codeblock(this.index.lines, pos.line, col) : "";
    // A config problem's place is file:line, not a stack: skip capturing thousands of traces.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.problems.push(new ConfigError(detail, this.file, pos?.line, full || undefined, block));
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  throwIfAny(): void {
    const [first, ...rest] = [...this.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    if (!first) return;
    first.others = rest;
    throw first;
  }
}

function sourceLines(source: string): string[] {
  return source.split(/\r?\n/);
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the first bad byte to give a line number: decode prefixes until it fails.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid));
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    // `lo` bytes decode; the bad sequence starts at most 3 bytes earlier (a cut multibyte char).
    const prefix = new TextDecoder("utf-8").decode(bytes.subarray(0, Math.max(0, lo - 3)));
    const line = prefix.split("\n").length;
    throw new ConfigError(`invalid UTF-8 near byte ${lo}`, file, line, undefined);
  }
}

/** Resolves schema entries at a path so an unknown key can get a "did you mean". */
function knownKeysAt(path: Segment[]): string[] {
  // biome-ignore lint: valibot schema internals are untyped here
  const unwrap = (schema: any) => {
    while (schema?.wrapped) schema = schema.wrapped; // optional(), nullable()
    return schema;
  };
  let schema = unwrap(configSchema);
  for (const seg of path) {
    // A table's key picks an entry; an array's index or a record's key (`[vcenter.NAME]`) its element.
    if (schema?.entries && typeof seg === "string") schema = unwrap(schema.entries[seg]);
    else if (schema?.item && typeof seg === "number") schema = unwrap(schema.item);
    else if (schema?.value && typeof seg === "string") schema = unwrap(schema.value);
    else return [];
  }
  return schema?.entries ? Object.keys(schema.entries) : [];
}

function issuePath(issue: v.BaseIssue<unknown>): Segment[] {
  return (issue.path ?? []).map((p) => (typeof p.key === "number" ? p.key : String(p.key)));
}

/** An issue's message; under a secret-looking key, "got <value>" says only what kind of value it was. */
function hideSecret(path: Segment[], issue: v.BaseIssue<unknown>): string {
  if (!isSecretPath(path) || issue.input === undefined) return issue.message;
  // Our messages read "expected …, got <value>"; the "expected" part never holds input.
  const got = issue.message.indexOf(", got ");
  return `${got < 0 ? "invalid value" : issue.message.slice(0, got)}, got ${kindOf(issue.input)}`;
}

function valueAt(raw: unknown, path: Segment[]): unknown {
  let value = raw;
  for (const seg of path) value = value && typeof value === "object" ? (value as Record<string | number, unknown>)[seg] : undefined;
  return value;
}

/**
 * Every unknown key of the table at `parent`: valibot reports only the first one per table,
 * and a file with two typos should not take two rounds to fix.
 */
function unknownKeys(raw: unknown, parent: Segment[], reported: string): string[] {
  const known = knownKeysAt(parent);
  const table = valueAt(raw, parent);
  if (known.length === 0 || !table || typeof table !== "object" || Array.isArray(table)) return [reported];
  return Object.keys(table).filter((k) => !known.includes(k));
}

function reportSchemaIssues(issues: v.BaseIssue<unknown>[], problems: ProblemList, raw: unknown): void {
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = issuePath(issue);
    const last = issue.path?.[issue.path.length - 1];
    const onKey = issue.type === "strict_object" || (last && "origin" in last && last.origin === "key");
    if (onKey && issue.expected !== "never") {
      // valibot reports a missing required key as an issue on the key, with the key expected.
      problems.add(path, `missing required key "${String(path[path.length - 1])}"`, false);
    } else if (onKey) {
      const parent = path.slice(0, -1);
      for (const key of unknownKeys(raw, parent, String(path[path.length - 1]))) {
        const at = [...parent, key];
        if (seen.has(formatPath(at))) continue;
        seen.add(formatPath(at));
        const hint = closest(key, knownKeysAt(parent));
        problems.add(at, `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}`, false);
      }
    } else if (issue.type === "union" && issue.issues?.length) {
      problems.add(path, hideSecret(path, issue.issues[0] ?? issue));
    } else {
      problems.add(path, hideSecret(path, issue), issue.input !== undefined);
    }
  }
}

/**
 * A rule that needs a subsystem's knowledge (config/ imports none): it gets the built config
 * and reports problems at key paths, which then carry file, line and caret like the rest.
 */
export type ConfigCheck = (config: Config, problem: (path: Segment[], detail: string) => void) => void;

export interface LoadOptions extends SecretContext {
  /**
   * Leave secrets unresolved (empty), checking only the form of env:/file:/credential:
   * references: for clients that only need paths (`esxkit status`) and for
   * `config check --no-secrets` on a machine that does not hold the secrets (CI, a laptop).
   */
  skipSecrets?: boolean;
  /** Subsystem rules run after the config's own (src/daemon/config-checks.ts). */
  checks?: readonly ConfigCheck[];
  /**
   * Require a writable daemon.state_dir when something keeps state there (a watchdog or a BMC):
   * `config check` and `serve` set it; clients that only read the file do not.
   */
  checkStateDir?: boolean;
}

/** Parses and validates config text. `file` is used in messages and to resolve relative paths. */
export function parseConfig(source: string, file: string, opts: LoadOptions = {}): Config {
  let raw: unknown;
  try {
    raw = parseToml(source, { unsafeKeyBehaviour: "throw" } as Parameters<typeof parseToml>[1]);
  } catch (err) {
    if (err instanceof TomlError) {
      const detail = err.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "syntax error";
      throw new ConfigError(`TOML syntax: ${detail}`, file, err.line, undefined, codeblock(maskSecretLines(sourceLines(source)), err.line, err.column));
    }
    throw err;
  }
  const problems = new ProblemList(file, source);
  const result = v.safeParse(configSchema, raw, { abortEarly: false });
  if (!result.success) {
    reportSchemaIssues(result.issues, problems, raw);
    problems.throwIfAny();
  }
  const baseDir = dirname(resolve(file));
  const secretCtx: SecretContext = { baseDir, env: opts.env };
  const config = buildConfig(result.output as RawConfig, problems, {
    file: resolve(file),
    baseDir,
    resolveSecret(ref: string, path: Segment[]) {
      try {
        // An inline secret is in the file anyway: it is still checked (e.g. IPMI's 20-byte limit).
        if (opts.skipSecrets && secretKind(ref) !== "inline") {
          checkSecretRef(ref);
          return "";
        }
        return resolveSecret(ref, secretCtx);
      } catch (err) {
        if (err instanceof SecretError) problems.add(path, err.message);
        else throw err;
        return "";
      }
    },
  });
  if (opts.checkStateDir && (config.watchdog.length || config.bmc.length)) {
    const problem = stateDirProblem(config.daemon.state_dir);
    if (problem) problems.add(["daemon", "state_dir"], `${problem}: the watchdog's persisted state and the BMCs' boot-restore notes are kept there`);
  }
  // The subsystem rules run on a built config even when the rules above found problems, so
  // both are listed in one round; a rule's problem under a key already reported is left out.
  const reported = problems.problems.flatMap((p) => (p.keyPath ? [p.keyPath] : []));
  const covered = (path: string) => reported.some((k) => path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`));
  for (const check of opts.checks ?? []) {
    check(config, (path, detail) => {
      if (!covered(formatPath(path))) problems.add(path, detail);
    });
  }
  problems.throwIfAny();
  warnOnInlineSecrets(config, raw as RawConfig, file);
  return config;
}

function warnOnInlineSecrets(config: Config, raw: RawConfig, file: string): void {
  const inline: string[] = [];
  const check = (ref: string | undefined, path: string) => {
    if (ref !== undefined && secretKind(ref) === "inline") inline.push(path);
  };
  for (const [n, e] of Object.entries(raw.vcenter ?? {})) check(e.password, `vcenter.${n}.password`);
  for (const [n, e] of Object.entries(raw.esxi ?? {})) {
    check(e.password, `esxi.${n}.password`);
    check(e.bmc?.password, `esxi.${n}.bmc.password`);
  }
  (raw.bmc ?? []).forEach((b, i) => check(b.password, `bmc[${i}].password`));
  check(raw.redfish?.password, "redfish.password");
  if (inline.length === 0) return;
  let mode = 0;
  try {
    mode = statSync(file).mode;
  } catch {
    return;
  }
  if (mode & 0o077) {
    config.warnings.push(
      `${file} holds inline secrets (${inline.join(", ")}) and is readable by group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 it, or use env:, file: or credential: references`,
    );
  }
}

/** Reads, parses and validates a config file. Throws ConfigError. */
export function loadConfig(path: string, opts: LoadOptions = {}): Config {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError(`cannot read the config file (${code})`, path, undefined, undefined);
  }
  return parseConfig(decodeUtf8(bytes, path), path, opts);
}
