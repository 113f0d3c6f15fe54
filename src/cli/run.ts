// Runs the citty command tree with what citty leaves out: unknown flags are rejected
// (citty accepts them silently), and errors map to documented exit codes.
//
// Exit codes (every command):
//   0  success
//   1  the command failed (invalid config, unreachable peer, failed operation)
//   2  usage error (unknown command or flag, missing or bad argument)
// `esxkit doctor` refines 1 and 2: 1 = warnings found, 2 = critical findings.
import { type ArgDef, type CommandDef, runCommand } from "citty";
import { renderProblems, shownProblems } from "../config/report.ts";
import { closest } from "../config/suggest.ts";
import { ConfigError, ControlError, EsxkitError, UsageError } from "../errors.ts";
import { renderHelp, resolve } from "./help.ts";
import { type Output, stderr, stdout } from "./output.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

type AnyCommand = CommandDef<any>;

interface FlagSpec {
  names: Set<string>;
  booleans: Set<string>;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

async function flagSpec(cmd: AnyCommand): Promise<FlagSpec> {
  const args = ((await resolve(cmd.args)) ?? {}) as Record<string, ArgDef>;
  const names = new Set<string>(["help", "h"]);
  const booleans = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = (def as { alias?: string | string[] }).alias;
    const all = [name, kebab(name), ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
    for (const n of all) {
      names.add(n);
      if (def.type === "boolean") booleans.add(n);
    }
  }
  return { names, booleans };
}

/**
 * Walks the command tree along argv, checking every flag against the command it belongs to.
 * Returns the chain of commands (root first) so help can be shown for the right one.
 */
export async function checkArgv(root: AnyCommand, argv: string[]): Promise<AnyCommand[]> {
  const chain: AnyCommand[] = [root];
  let cmd = root;
  let spec = await flagSpec(cmd);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (arg.startsWith("-") && arg !== "-") {
      const body = arg.replace(/^--?/, "");
      const name = body.split("=", 1)[0] as string;
      const plain = name.startsWith("no-") && spec.booleans.has(name.slice(3)) ? name.slice(3) : name;
      if (!spec.names.has(plain)) {
        const where = (await resolve(cmd.meta))?.name ?? "esxkit";
        throw new UsageError(`unknown option ${arg.split("=")[0]} for "${where}" (see --help)`);
      }
      if (!spec.booleans.has(plain) && !body.includes("=")) i++; // the flag's value
      continue;
    }
    const subs = (await resolve(cmd.subCommands)) as Record<string, AnyCommand | (() => Promise<AnyCommand>)> | undefined;
    if (subs && Object.keys(subs).length > 0) {
      const next = subs[arg];
      if (!next) {
        const names = Object.keys(subs);
        const guess = closest(arg, names);
        const path = chain.map((c) => (c.meta as { name?: string } | undefined)?.name).join(" ");
        throw new UsageError(
          `unknown command "${arg}" for "${path}"${guess ? `: did you mean "${guess}"?` : ""} (commands: ${names.join(", ")}; see ${path} --help)`,
        );
      }
      cmd = (await resolve(next)) as AnyCommand;
      chain.push(cmd);
      spec = await flagSpec(cmd);
    }
  }
  return chain;
}

function printError(err: unknown): number {
  // `esxkit … | head` closed the pipe: the reader's choice, not a failure.
  if ((err as NodeJS.ErrnoException | null)?.code === "EPIPE") return EXIT_OK;
  if (err instanceof ConfigError) {
    // One write: a file with thousands of problems is capped, and rendered in linear time.
    stderr(renderProblems(shownProblems(err)));
    return EXIT_FAILURE;
  }
  if (err instanceof ControlError && err.problems) {
    // A rejected reload: the headline carries the code; the problems follow as `config check` prints them.
    stderr(`error: ${err.message} [${err.code}]\n${renderProblems(err.problems)}`);
    return EXIT_FAILURE;
  }
  if (err instanceof UsageError) {
    stderr(`error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof EsxkitError) {
    stderr(`error: ${err.message} [${err.code}]\n`);
    return EXIT_FAILURE;
  }
  if (err instanceof Error && err.name === "CLIError") {
    // citty colours the names in its messages when loaded without NO_COLOR; ours are plain.
    stderr(`error: ${err.message.replace(/\x1b\[[0-9;]*m/g, "")}\n`);
    return EXIT_USAGE;
  }
  // Anything else (a system error, a bug) gets one readable line; the stack with ESXKIT_DEBUG=1.
  const detail = err instanceof Error ? (process.env.ESXKIT_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
  stderr(`error: ${detail}${process.env.ESXKIT_DEBUG ? "" : " (ESXKIT_DEBUG=1 shows where)"}\n`);
  return EXIT_FAILURE;
}

/** `esxkit help [command …]` is `esxkit [command …] --help`. */
export function helpAsFlag(argv: string[]): string[] {
  return argv[0] === "help" ? [...argv.slice(1).filter((a) => !a.startsWith("-")), "--help"] : argv;
}

async function printHelp(chain: AnyCommand[], to: Output = stdout): Promise<void> {
  to(await renderHelp(chain));
}

/** Runs the CLI and returns the exit code (the caller exits). */
export async function runCli(root: AnyCommand, argv: string[]): Promise<number> {
  argv = helpAsFlag(argv);
  // `esxkit --version` / `-v` (the top-level help lists them) print what `esxkit version` does.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    stdout(`${(await resolve(root.meta))?.version ?? "unknown"}\n`);
    return EXIT_OK;
  }
  let chain: AnyCommand[];
  try {
    chain = await checkArgv(root, argv);
  } catch (err) {
    return printError(err);
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    await printHelp(chain);
    return EXIT_OK;
  }
  try {
    await runCommand(root, { rawArgs: argv });
  } catch (err) {
    // A missing command or argument: the help of the command in question, on stderr.
    if (err instanceof Error && err.name === "CLIError") await printHelp(chain, stderr);
    return printError(err);
  }
  return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
}
