// smol-toml reports positions for syntax errors only. To put a line number and a caret
// next to a schema error, we scan the source once and remember where each key path was
// written: table headers, array-of-table indices, dotted keys and inline tables.

export interface KeyPosition {
  line: number; // 1-based
  column: number; // 1-based, start of the key (or of the value when `valueColumn` is known)
  valueColumn?: number;
}

function stripComment(line: string): string {
  let inStr: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inStr) {
      if (c === "\\" && inStr === '"') i++;
      else if (c === inStr) inStr = null;
    } else if (c === '"' || c === "'") inStr = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(\.|$)/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < key.length && (m = re.exec(key))) {
    const raw = m[1] as string;
    parts.push(raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1) : raw);
    if (m[2] === "") break;
  }
  return parts;
}

/** Joins path segments the way error messages print them: `bmc[1].port`, `vcenter.lab.url`. */
export function formatPath(segments: Array<string | number>): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

/** formatPath([...base, ...keys]) for string keys, given formatPath(base). */
function extendPath(base: string, keys: string[]): string {
  let out = base;
  for (const k of keys) out = out ? `${out}.${k}` : k;
  return out;
}

const HEADER = /^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*$/;
const KEY_VALUE = /^(\s*)((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=\s*(.*)$/;
const BARE_KEY = /^[A-Za-z0-9_.\s-]+$/;

/** `key = value` split at the first "=", fast for bare keys (the common case); undefined if not one. */
function splitKeyValue(line: string): { indent: number; key: string; value: string } | undefined {
  const eq = line.indexOf("=");
  if (eq < 0) return undefined;
  const before = line.slice(0, eq);
  if (!before.includes('"') && !before.includes("'")) {
    if (!BARE_KEY.test(before) || before.trim() === "") return undefined;
    const value = line.slice(eq + 1).replace(/^\s+/, "");
    return { indent: before.length - before.trimStart().length, key: before.trim(), value };
  }
  const kv = KEY_VALUE.exec(line);
  return kv ? { indent: (kv[1] as string).length, key: kv[2] as string, value: kv[3] as string } : undefined;
}

/** Maps every key path written in `source` to where it was written. */
export function locateKeys(source: string): Map<string, KeyPosition> {
  const positions = new Map<string, KeyPosition>();
  const arrayCounts = new Map<string, number>();
  let table = ""; // formatPath of the current table
  const lines = source.split(/\r?\n/);
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = stripComment(rawLine);
    const header = line.trimStart().startsWith("[") ? HEADER.exec(line) : null;
    if (header) {
      const isArray = header[1] === "[[";
      const keyParts = splitKey(header[2] as string);
      const base = formatPath(keyParts);
      if (isArray) {
        const n = arrayCounts.get(base) ?? 0;
        arrayCounts.set(base, n + 1);
        table = `${base}[${n}]`;
      } else table = base;
      const col = rawLine.indexOf(header[2] as string) + 1;
      positions.set(table, { line: lineNo, column: col });
      return;
    }
    const kv = splitKeyValue(line);
    if (!kv) return;
    const path = extendPath(table, splitKey(kv.key));
    const keyCol = kv.indent + 1;
    const valueCol = line.length - kv.value.length + 1;
    positions.set(path, { line: lineNo, column: keyCol, valueColumn: valueCol });
    // Inline table on the same line: `bmc = { address = "…", port = 623 }`.
    const value = kv.value;
    if (value.trimStart().startsWith("{")) {
      const inner = /([A-Za-z0-9_-]+)\s*=\s*/g;
      let m: RegExpExecArray | null;
      const offset = valueCol - 1;
      while ((m = inner.exec(value))) {
        positions.set(extendPath(path, [m[1] as string]), {
          line: lineNo,
          column: offset + m.index + 1,
          valueColumn: offset + m.index + m[0].length + 1,
        });
      }
    }
  });
  return positions;
}

/**
 * For every path that has written keys below it, the first of them: a table written only
 * through sub-tables (`[vcentre.x]` for `vcentre`) is reported at its first mention.
 */
export function firstMentions(positions: Map<string, KeyPosition>): Map<string, KeyPosition> {
  const first = new Map<string, KeyPosition>();
  for (const [key, pos] of positions) {
    // Every proper prefix of `key` ends before a "." or a "[".
    for (let i = 0; i < key.length; i++) {
      if ((key[i] === "." || key[i] === "[") && i > 0) {
        const prefix = key.slice(0, i);
        if (!first.has(prefix)) first.set(prefix, pos);
      }
    }
  }
  return first;
}

/** Finds the closest written position for a path: the key itself, else its first mention, else its nearest parent. */
export function positionOf(
  positions: Map<string, KeyPosition>,
  segments: Array<string | number>,
  first: Map<string, KeyPosition> = new Map(),
): KeyPosition | undefined {
  const full = formatPath(segments);
  if (full && !positions.has(full)) {
    const pos = first.get(full);
    if (pos) return pos;
  }
  for (let n = segments.length; n > 0; n--) {
    const p = positions.get(formatPath(segments.slice(0, n)));
    if (p) return p;
  }
  return undefined;
}

/**
 * The column of element `index` of a one-line array written at `column` (`allow = ["a", "b"]`),
 * so the caret points at the bad element; `column` itself when the array is not on this line.
 */
export function elementColumn(line: string, column: number, index: number): number {
  if (line[column - 1] !== "[") return column;
  let depth = 0;
  let n = 0;
  let quote: string | undefined;
  for (let i = column - 1; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "#") break;
    if (depth === 1 && n === index && !/[\s,\]]/.test(c)) return i + 1;
    if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      if (--depth === 0) break;
    } else if (c === "," && depth === 1) n++;
  }
  return column;
}

/**
 * A smol-toml-like code block: the line before, the line, the line after, and a caret.
 * `lines` must already be masked (maskSecretLines): a code block must never show a secret.
 */
export function codeblock(lines: readonly string[], line: number, column: number): string {
  const width = String(Math.min(lines.length, line + 1)).length;
  const out: string[] = [];
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++) {
    out.push(`${String(n).padStart(width)}| ${lines[n - 1] ?? ""}`);
    if (n === line) out.push(`${" ".repeat(width)}| ${" ".repeat(Math.max(0, column - 1))}^`);
  }
  return out.join("\n");
}
