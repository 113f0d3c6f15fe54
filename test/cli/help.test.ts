// Help as a field engineer reads it: every command has one, at most 100 columns with no
// trailing blanks, the full "esxkit …" path, and examples that really parse.
import { beforeAll, describe, expect, test } from "bun:test";
import type { CommandDef, CommandMeta } from "citty";
import { main } from "../../src/cli/index.ts";
import { HELP_WIDTH, renderHelp, resolve, wrap } from "../../src/cli/help.ts";
import { checkArgv, helpAsFlag } from "../../src/cli/run.ts";
import { buildBinary } from "../support/config/binary.ts";

// biome-ignore lint: citty's type for any command
type AnyCommand = CommandDef<any>;

/** Every command in the tree, as [path words, chain from the root]. */
async function allCommands(): Promise<Array<{ path: string[]; chain: AnyCommand[] }>> {
  const out: Array<{ path: string[]; chain: AnyCommand[] }> = [];
  const walk = async (chain: AnyCommand[], path: string[]) => {
    out.push({ path, chain });
    const subs = (await resolve(chain[chain.length - 1]?.subCommands)) ?? {};
    for (const [name, sub] of Object.entries(subs)) await walk([...chain, (await resolve(sub)) as AnyCommand], [...path, name]);
  };
  await walk([main], []);
  return out;
}

/** An example line as argv: "esxkit …" words, without sudo, env assignments, quotes or redirections. */
function exampleArgv(line: string): string[] | undefined {
  const words = line.match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
  // Lines that run something else (systemctl reload esxkit) are not ours to parse.
  const start = words.findIndex((w) => !/^(sudo|[A-Z_]+=\S*)$/.test(w));
  if (start < 0 || !/(^|\/)esxkit$/.test(words[start] ?? "")) return undefined;
  const argv: string[] = [];
  for (const w of words.slice(start + 1)) {
    if (w === ">" || w === "|" || w === "&&") break;
    argv.push(w.replace(/^['"]|['"]$/g, ""));
  }
  return argv;
}

let commands: Array<{ path: string[]; chain: AnyCommand[] }> = [];
beforeAll(async () => {
  commands = await allCommands();
});

describe("help of every command", () => {
  test("the tree is walked (a test over nothing proves nothing)", () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.map((c) => c.path.join(" "))).toContain("vm power");
  });

  test("fits in 100 columns, no trailing blanks, names the full esxkit path", async () => {
    const bad: string[] = [];
    for (const { path, chain } of commands) {
      const text = await renderHelp(chain);
      text.split("\n").forEach((line, i) => {
        if (line.length > HELP_WIDTH) bad.push(`${path.join(" ")}:${i + 1}: ${line.length} columns`);
        if (/\s$/.test(line)) bad.push(`${path.join(" ")}:${i + 1}: trailing blank`);
      });
      expect(text).toContain(`esxkit ${path.join(" ")}`.trimEnd());
      expect(text).toContain("Usage:");
    }
    expect(bad).toEqual([]);
  });

  test("every command shows an example, and every example parses to that command", async () => {
    const missing: string[] = [];
    const broken: string[] = [];
    for (const { path, chain } of commands) {
      const meta = ((await resolve(chain[chain.length - 1]?.meta)) ?? {}) as CommandMeta;
      if (!meta.examples?.length) missing.push(path.join(" ") || "esxkit");
      for (const line of meta.examples ?? []) {
        const argv = exampleArgv(line);
        if (!argv) continue; // e.g. "systemctl reload esxkit"
        try {
          const got = await checkArgv(main, helpAsFlag(argv));
          const names = await Promise.all(got.slice(1).map(async (c) => ((await resolve(c.meta)) as CommandMeta).name));
          // An example of a group may go deeper; it must start with the group's path.
          if (names.slice(0, path.length).join(" ") !== path.join(" ")) broken.push(`${line} → ${names.join(" ")}`);
        } catch (err) {
          broken.push(`${line}: ${(err as Error).message}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(broken).toEqual([]);
  });

  test("wrap() keeps words whole and indents continuation lines", () => {
    const cases: Array<[string, number, number, string[]]> = [
      ["a b c", 100, 2, ["  a b c"]],
      ["aaaa bbbb cccc", 11, 2, ["  aaaa bbbb", "  cccc"]],
      ["aaaa bbbb", 8, 4, ["    aaaa", "    bbbb"]],
    ];
    for (const [text, width, indent, want] of cases) expect(wrap(text, width, indent)).toEqual(want);
  });
});

describe("the compiled binary", () => {
  let bin = "";
  beforeAll(() => {
    bin = buildBinary();
  });
  const run = (args: string[]) => {
    const p = Bun.spawnSync([bin, ...args], { env: { PATH: process.env.PATH ?? "" } });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  };

  test("top-level --help: at most 100 columns, no trailing blank, no colour, examples", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(HELP_WIDTH);
    expect(lines.filter((l) => /\s$/.test(l))).toEqual([]);
    expect(r.stdout).not.toContain("\u001b[");
    expect(r.stdout).toContain("Examples:");
  });

  test.each([
    [["help"], ["--help"]],
    [["help", "vm", "power"], ["vm", "power", "--help"]],
    [["help", "watchdog"], ["watchdog", "--help"]],
  ])("esxkit %p prints the same as %p", (a, b) => {
    const x = run(a);
    expect(x.code).toBe(0);
    expect(x.stdout).toBe(run(b).stdout);
    expect(x.stdout.length).toBeGreaterThan(100);
  });

  test.each([
    [["confg", "check"], 'did you mean "config"?'],
    [["vm", "pwer", "web01", "status"], 'did you mean "power"?'],
    [["watchdog", "paus"], 'did you mean "pause"?'],
    [["help", "statsu"], 'did you mean "status"?'],
  ])("a mistyped command %p is a usage error with a suggestion", (args, hint) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(hint);
  });

  test("a group without its command shows the group's help on stderr, exit 2", () => {
    const r = run(["vm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("esxkit vm <command>");
    expect(r.stdout).toBe("");
  });
});
