// SLP attribute lists (RFC 2608 §5, §6.4): `(tag=v1,v2),keyword`, with reserved characters
// escaped as `\HH`. Values are kept unescaped in memory; escaping happens only when a list
// is serialized, so a value can never break the list structure it travels in.
import { SlpSyntaxError } from "../errors.ts";

/** An opaque value: bytes, written `\FF\hh\hh…` on the wire. */
export class Opaque {
  constructor(readonly bytes: Uint8Array) {}
}

export type AttrValue = string | Opaque;

export interface Attribute {
  tag: string;
  /** null for a keyword attribute (a tag with no values). */
  values: AttrValue[] | null;
}

// `(` `)` `,` `\` `!` `<` `=` `>` `~` and CTL must be escaped in values; tags also escape `*`.
function isReservedValueChar(c: number): boolean {
  return c < 0x20 || c === 0x7f || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x5c || c === 0x21 || c === 0x3c || c === 0x3d || c === 0x3e || c === 0x7e;
}

/** Characters a tag must not contain at all (RFC 2608 §5 bad-tag). */
export function badTagChar(tag: string): string | undefined {
  const m = /[\r\n\t_]/.exec(tag);
  return m?.[0];
}

function hex2(c: number): string {
  return `\\${c.toString(16).padStart(2, "0")}`;
}

export function escapeValue(v: string): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (isReservedValueChar(c)) {
      out += v.slice(last, i) + hex2(c);
      last = i + 1;
    }
  }
  return last === 0 ? v : out + v.slice(last);
}

export function escapeTag(t: string): string {
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    out += isReservedValueChar(c) || c === 0x2a ? hex2(c) : t[i];
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Restores `\HH` escapes. Strict mode refuses a backslash not followed by two hex digits;
 * lenient mode (captured files from agents that never escaped) keeps it literally.
 */
export function unescape(s: string, what: string, base = 0, lenient = false): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    if (i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      const code = Number.parseInt(s.slice(i + 1, i + 3), 16);
      if (code < 0x80) {
        out += String.fromCharCode(code);
        i += 2;
        continue;
      }
      if (!lenient) throw new SlpSyntaxError(what, `escape \\${s.slice(i + 1, i + 3)} is not a reserved character`, base + i);
    } else if (!lenient) {
      throw new SlpSyntaxError(what, "backslash not followed by two hex digits", base + i);
    }
    out += ch;
  }
  return out;
}

function parseValue(raw: string, what: string, base: number, lenient: boolean): AttrValue {
  if (/^\\ff/i.test(raw)) {
    const body = raw.slice(3);
    if (/^(\\[0-9a-fA-F]{2})*$/.test(body)) {
      const bytes = new Uint8Array(body.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(body.slice(i * 3 + 1, i * 3 + 3), 16);
      return new Opaque(bytes);
    }
    if (!lenient) throw new SlpSyntaxError(what, "opaque value must be \\FF followed by \\HH escapes only", base);
  }
  return unescape(raw, what, base, lenient);
}

function serializeValue(v: AttrValue): string {
  if (typeof v === "string") return escapeValue(v);
  let out = "\\FF";
  for (const b of v.bytes) out += hex2(b);
  return out;
}

export function serializeAttribute(a: Attribute): string {
  const tag = escapeTag(a.tag);
  if (a.values === null) return tag;
  return `(${tag}=${a.values.map(serializeValue).join(",")})`;
}

/** The wire form of a list of attributes. */
export function serializeAttrList(attrs: readonly Attribute[]): string {
  return attrs.map(serializeAttribute).join(",");
}

/**
 * Parses an attribute list. Strict mode follows RFC 2608 §5; lenient mode accepts what
 * real agents emit (sfcb never escapes: a value may contain `(`, `)` or `=`), ending an
 * attribute only at a `)` followed by the end or by `,` and another attribute.
 */
export function parseAttrList(s: string, opts: { lenient?: boolean; what?: string } = {}): Attribute[] {
  const what = opts.what ?? "attribute list";
  const lenient = opts.lenient ?? false;
  const out: Attribute[] = [];
  let pos = 0;
  const n = s.length;
  while (pos < n) {
    while (pos < n && (s[pos] === " " || (lenient && /\s/.test(s[pos]!)))) pos++;
    if (pos >= n) break;
    if (s[pos] === ",") {
      if (!lenient) throw new SlpSyntaxError(what, "empty item", pos);
      pos++;
      continue;
    }
    if (s[pos] === "(") {
      const eq = s.indexOf("=", pos + 1);
      const close = lenient ? findLenientClose(s, pos + 1) : s.indexOf(")", pos + 1);
      if (close < 0) throw new SlpSyntaxError(what, "unbalanced '('", pos);
      if (eq < 0 || eq > close) throw new SlpSyntaxError(what, "attribute without '='", pos);
      const tagRaw = s.slice(pos + 1, eq);
      const tag = parseTag(tagRaw, what, pos + 1, lenient);
      const body = s.slice(eq + 1, close);
      if (!lenient) {
        const bad = /[()]/.exec(body);
        if (bad) throw new SlpSyntaxError(what, `unescaped '${bad[0]}' in a value`, eq + 1 + bad.index);
      }
      const values: AttrValue[] = [];
      let vStart = 0;
      for (const raw of body.split(",")) {
        values.push(parseValue(raw, what, eq + 1 + vStart, lenient));
        vStart += raw.length + 1;
      }
      out.push({ tag, values });
      pos = close + 1;
    } else {
      let end = s.indexOf(",", pos);
      if (end < 0) end = n;
      const raw = s.slice(pos, end);
      if (!lenient && /[()=]/.test(raw)) throw new SlpSyntaxError(what, "keyword contains '(', ')' or '='", pos);
      out.push({ tag: parseTag(raw.trim(), what, pos, lenient), values: null });
      pos = end;
    }
    while (pos < n && s[pos] === " ") pos++;
    if (pos < n) {
      if (s[pos] !== ",") throw new SlpSyntaxError(what, `expected ',' between attributes, found '${s[pos]}'`, pos);
      pos++;
    }
  }
  return out;
}

function parseTag(raw: string, what: string, base: number, lenient: boolean): string {
  const tag = unescape(raw, what, base, lenient).trim();
  if (tag.length === 0) throw new SlpSyntaxError(what, "empty attribute tag", base);
  if (!lenient && /[*\r\n\t]/.test(tag)) throw new SlpSyntaxError(what, `attribute tag ${JSON.stringify(tag)} contains a character tags may not carry`, base);
  return tag;
}

function findLenientClose(s: string, from: number): number {
  let i = s.indexOf(")", from);
  while (i >= 0) {
    let j = i + 1;
    while (j < s.length && /\s/.test(s[j]!)) j++;
    if (j >= s.length) return i;
    if (s[j] === ",") {
      let k = j + 1;
      while (k < s.length && /\s/.test(s[k]!)) k++;
      if (k >= s.length || s[k] === "(") return i;
      // `,keyword` then `,` or the end: a keyword has no parentheses or '='.
      const next = s.indexOf(",", k);
      const word = s.slice(k, next < 0 ? s.length : next);
      if (!/[()=]/.test(word)) return i;
    }
    i = s.indexOf(")", i + 1);
  }
  return -1;
}

// ---------------------------------------------------------------- comparison helpers

/** RFC 2608 §6.4: case-insensitive, internal white space folded, outer white space ignored. */
export function foldString(s: string): string {
  return s.trim().replace(/[ \r\n\t]+/g, " ").toLowerCase();
}

function sameValue(a: AttrValue, b: AttrValue): boolean {
  if (typeof a === "string" && typeof b === "string") return foldString(a) === foldString(b);
  if (a instanceof Opaque && b instanceof Opaque) return Buffer.from(a.bytes).equals(Buffer.from(b.bytes));
  return false;
}

/** Merges lists (RFC 2608 §10.4): one copy of each tag and each value, first spelling wins. */
export function mergeAttributes(lists: readonly (readonly Attribute[])[]): Attribute[] {
  const out: Attribute[] = [];
  const byTag = new Map<string, Attribute>();
  for (const list of lists) {
    for (const a of list) {
      const key = foldString(a.tag);
      const have = byTag.get(key);
      if (!have) {
        const copy: Attribute = { tag: a.tag, values: a.values === null ? null : [] };
        if (a.values) for (const v of a.values) if (!copy.values!.some((x) => sameValue(x, v))) copy.values!.push(v);
        byTag.set(key, copy);
        out.push(copy);
        continue;
      }
      if (a.values === null) continue;
      if (have.values === null) have.values = [];
      for (const v of a.values) if (!have.values.some((x) => sameValue(x, v))) have.values.push(v);
    }
  }
  return out;
}

/**
 * A matcher for an AttrRqst tag list (RFC 2608 §9.4): comma-separated tags, `*` wildcards,
 * case-insensitive. An empty list matches every tag.
 */
export function compileTagList(tagList: string): (tag: string) => boolean {
  const items = tagList
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((t) => foldString(unescape(t, "tag list")));
  if (items.length === 0) return () => true;
  const matchers = items.map((item) => {
    if (!item.includes("*")) return (tag: string) => tag === item;
    const parts = item.split("*");
    return (tag: string) => globMatch(tag, parts);
  });
  return (tag: string) => {
    const t = foldString(tag);
    return matchers.some((m) => m(t));
  };
}

/** `parts` is a pattern split on `*`: the first part anchors the start, the last the end. */
export function globMatch(s: string, parts: readonly string[]): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!s.startsWith(first)) return false;
  let pos = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (p.length === 0) continue;
    const at = s.indexOf(p, pos);
    if (at < 0) return false;
    pos = at + p.length;
  }
  return parts.length === 1 ? s.length === first.length : s.length - last.length >= pos && s.endsWith(last);
}

/** Attributes whose tag passes the tag list. */
export function filterByTags(attrs: readonly Attribute[], tagList: string): Attribute[] {
  if (tagList.trim().length === 0) return [...attrs];
  const match = compileTagList(tagList);
  return attrs.filter((a) => match(a.tag));
}
