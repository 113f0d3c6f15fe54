// Help text for every command, rendered by us rather than citty: citty pads every line to the
// widest one (a 279-column top-level help, mostly trailing blanks), names nested commands
// without "esxkit", and has no place for examples. Ours wraps at 100 columns, never ends a
// line in a blank, prints the full command path, and shows each command's examples.
import type { ArgDef, CommandDef, CommandMeta } from "citty";

declare module "citty" {
  interface CommandMeta {
    /** Command lines a field engineer would type, shown under "Examples". */
    examples?: string[];
  }
}

// biome-ignore lint: citty's own type for "a command with any args".
type AnyCommand = CommandDef<any>;

export const HELP_WIDTH = 100;

/** A citty value that may be given directly, as a promise, or as a (lazy) function. */
export async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Words of `text` in lines of at most `width` columns, each after `indent` blanks (the first after `first`). */
export function wrap(text: string, width: number, indent: number, first = indent): string[] {
  const lines: string[] = [];
  let line = "";
  let room = width - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = width - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => `${" ".repeat(i === 0 ? first : indent)}${l}`);
}

/** Two columns: names on the left, descriptions wrapped beside them. */
function table(rows: [string, string][]): string[] {
  const left = Math.min(32, Math.max(...rows.map(([n]) => n.length)));
  const out: string[] = [];
  for (const [name, text] of rows) {
    const indent = 2 + left + 2;
    if (name.length > left) {
      out.push(`  ${name}`);
      out.push(...wrap(text, HELP_WIDTH, indent));
      continue;
    }
    const [head, ...rest] = wrap(text, HELP_WIDTH, indent);
    out.push(`  ${name.padEnd(left)}  ${(head ?? "").trimStart()}`.trimEnd(), ...rest);
  }
  return out;
}

function optionName(name: string, def: ArgDef): string {
  const alias = (def as { alias?: string | string[] }).alias;
  const aliases = (Array.isArray(alias) ? alias : alias ? [alias] : []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`));
  const choices = (def as { options?: string[] }).options;
  const named = (def as { valueHint?: string }).valueHint ?? (choices ? choices.join("|") : "VALUE");
  const hint = def.type === "boolean" ? "" : ` ${named}`;
  return [...aliases, `--${name}${hint}`].join(", ");
}

function argText(def: ArgDef): string {
  let text = def.description ?? "";
  const dflt = (def as { default?: unknown }).default;
  if (dflt !== undefined && def.type !== "boolean" && !/default/i.test(text)) text += ` (default: ${String(dflt)})`;
  if (def.type === "positional" && def.required === false && !/default/i.test(text)) text += " (optional)";
  return text;
}

/** The help of the last command in `chain` (root first), as text ending in a newline. */
export async function renderHelp(chain: AnyCommand[]): Promise<string> {
  const metas = await Promise.all(chain.map(async (c) => ((await resolve(c.meta)) ?? {}) as CommandMeta));
  const cmd = chain[chain.length - 1] as AnyCommand;
  const meta = metas[metas.length - 1] as CommandMeta;
  const path = metas.map((m, i) => m.name ?? (i === 0 ? "esxkit" : "?")).join(" ");
  const args = ((await resolve(cmd.args)) ?? {}) as Record<string, ArgDef>;
  const subs = ((await resolve(cmd.subCommands)) ?? {}) as Record<string, AnyCommand | (() => Promise<AnyCommand>)>;
  const out: string[] = [];

  const version = metas[0]?.version;
  out.push(...wrap(`${path}: ${meta.description ?? ""}${chain.length === 1 && version ? ` (v${version})` : ""}`, HELP_WIDTH, 2, 0), "");

  const positionals = Object.entries(args).filter(([, d]) => d.type === "positional");
  const options = Object.entries(args).filter(([, d]) => d.type !== "positional");
  const subNames = Object.keys(subs);
  const usage = [path];
  if (subNames.length) usage.push("<command>");
  if (options.length) usage.push("[options]");
  for (const [n, d] of positionals) usage.push(d.required === false ? `[${n.toUpperCase()}]` : `<${n.toUpperCase()}>`);
  out.push("Usage:", ...wrap(usage.join(" "), HELP_WIDTH, 4, 2), "");

  if (subNames.length) {
    const rows: [string, string][] = [];
    for (const n of subNames) {
      const sub = (await resolve(subs[n])) as AnyCommand;
      const m = ((await resolve(sub.meta)) ?? {}) as CommandMeta;
      if (!m.hidden) rows.push([n, m.description ?? ""]);
    }
    out.push("Commands:", ...table(rows), "");
  }
  if (positionals.length) out.push("Arguments:", ...table(positionals.map(([n, d]) => [n.toUpperCase(), argText(d)])), "");
  // A flag that is on by default is shown by its way off (--no-secrets), as users type it.
  const optionRows = options.map(([n, d]): [string, string] => {
    const negative = (d as { negativeDescription?: string }).negativeDescription;
    if (d.type === "boolean" && (d as { default?: unknown }).default === true && negative) return [`--no-${n}`, negative];
    return [optionName(n, d), argText(d)];
  });
  out.push("Options:", ...table([...optionRows, ["-h, --help", "show this help"], ...(chain.length === 1 && version ? [["-v, --version", "print the version"] as [string, string]] : [])]), "");
  if (meta.examples?.length) out.push("Examples:", ...meta.examples.flatMap((e) => wrap(e, HELP_WIDTH, 4, 2)), "");
  if (subNames.length) {
    const helpPath = ["esxkit help", ...path.split(" ").slice(1), "<command>"].join(" ");
    out.push(...wrap(`Run "${path} <command> --help" or "${helpPath}" for a command's options.`, HELP_WIDTH, 0));
  }
  while (out[out.length - 1] === "") out.pop();
  return `${out.map((l) => l.trimEnd()).join("\n")}\n`;
}
