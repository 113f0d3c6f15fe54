// Which config keys hold secrets, and how to hide their values in text that shows config
// lines (error code blocks). A key counts as secret by its look, not by the schema: a user who
// misspells `pasword` or puts `token = …` in the wrong section has still written a secret.
// References (env:, file:, credential:) are not secrets and stay visible: they help to debug.

const SECRET_KEY = /pass|pa?s+w|pwd|secret|token|cred|api[_-]?key|private[_-]?key/i;

/** A key whose value must never be shown: `password`, `pasword`, `passwd`, `pwd`, `*secret*`, `*token*`, … */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** True when any segment of a key path names a secret (`bmc[0].password`, `x.token.y`). */
export function isSecretPath(path: ReadonlyArray<string | number>): boolean {
  return path.some((s) => typeof s === "string" && isSecretKey(s));
}

const REFERENCE = /^["']?(env|file|credential):/;
// A key (bare or quoted) followed by `=`; the value starts where the match ends.
const KEY_EQ = /("(?:[^"\\]|\\.)*"|'[^']*'|[\w-]+)\s*=[ \t]*/g;

/** Where a value that starts at `text[i]` ends on this line, and what closes it if it goes on. */
function valueEnd(text: string, i: number): { end: number; open?: string } {
  for (const delim of ['"""', "'''"]) {
    if (text.startsWith(delim, i)) {
      const close = text.indexOf(delim, i + 3);
      return close < 0 ? { end: text.length, open: delim } : { end: close + 3 };
    }
  }
  const c = text[i];
  if (c === '"' || c === "'") {
    for (let j = i + 1; j < text.length; j++) {
      if (c === '"' && text[j] === "\\") j++;
      else if (text[j] === c) return { end: j + 1 };
    }
    return { end: text.length };
  }
  if (c === "[" || c === "{") return bracketEnd(text, i);
  const m = /[,}#\s]/.exec(text.slice(i));
  return { end: m ? i + m.index : text.length };
}

/**
 * The end of an array or inline table at `text[i]`, counting nested brackets and skipping
 * strings (`["a]", "x"]`); a table's values are a secret's too (`password = { value = "…" }`).
 * An array left open continues until a line with "]", as before.
 */
function bracketEnd(text: string, i: number): { end: number; open?: string } {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const ch = text[j];
    if (ch === '"' || ch === "'") {
      for (j++; j < text.length && text[j] !== ch; j++) if (ch === '"' && text[j] === "\\") j++;
    } else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") {
      depth--;
      if (depth === 0) return { end: j + 1 };
    }
  }
  return { end: text.length, open: text[i] === "[" ? "]" : "}" };
}

/**
 * Masks the value of every secret-looking key in `lines`, including values that run on over
 * several lines (multi-line strings, arrays). Linear in the size of the text.
 */
export function maskSecretLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  let open: string | undefined; // a secret value continues on this line until `open` closes it
  for (const line of lines) {
    let text = line;
    let from = 0;
    if (open) {
      const close = text.indexOf(open);
      if (close < 0) {
        out.push(text.replace(/\S/g, "*"));
        continue;
      }
      text = `***${text.slice(close + open.length)}`;
      from = 3;
      open = undefined;
    }
    KEY_EQ.lastIndex = from;
    let m: RegExpExecArray | null;
    while ((m = KEY_EQ.exec(text))) {
      const key = (m[1] as string).replace(/^["']|["']$/g, "");
      const start = m.index + m[0].length;
      if (!isSecretKey(key) || start >= text.length) continue;
      const { end, open: rest } = valueEnd(text, start);
      if (REFERENCE.test(text.slice(start, end))) {
        KEY_EQ.lastIndex = end;
        continue;
      }
      text = `${text.slice(0, start)}"***"${text.slice(end)}`;
      KEY_EQ.lastIndex = start + 5;
      if (rest) {
        open = rest;
        break;
      }
    }
    out.push(maskUriPasswords(text));
  }
  return out;
}

// A password in a URI's userinfo ("telnet://user:pw@host", "https://u:pw@vc/sdk"), whatever the key.
const URI_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"']*:)[^\s@/"']+@/gi;

/** "telnet://user:pw@host" → "telnet://user:***@host": for any text that shows a config value. */
export function maskUriPasswords(text: string): string {
  return text.replace(URI_PASSWORD, "$1***@");
}

/** What kind of value `input` is, without showing it: for messages about secret fields. */
export function kindOf(input: unknown): string {
  if (typeof input === "string") return input === "" ? "an empty string" : "a string";
  if (typeof input === "number" || typeof input === "bigint") return "a number";
  if (typeof input === "boolean") return "a boolean";
  if (input === undefined) return "nothing";
  if (Array.isArray(input)) return "an array";
  if (input instanceof Date) return "a date";
  return "a table";
}
