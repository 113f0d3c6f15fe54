// SrvRqst predicates: LDAPv3 search filters (RFC 2254) with SLP's matching rules (RFC 2608
// §5, §6.4, §8.1). The parser is iterative-recursive with hard limits — at most 1 KB of input
// and 16 levels of nesting — and refuses bad escapes, raw control characters and trailing
// garbage, so hostile input costs O(size) and cannot exhaust the stack.
import { SlpSyntaxError } from "../errors.ts";
import { type Attribute, foldString, globMatch, Opaque } from "./attributes.ts";

export const MAX_PREDICATE_BYTES = 1024;
export const MAX_PREDICATE_DEPTH = 16;

type Typed = { kind: "int"; n: number } | { kind: "bool"; b: boolean } | { kind: "str"; s: string } | { kind: "opaque"; bytes: Uint8Array };

export type Filter =
  | { op: "and" | "or"; list: Filter[] }
  | { op: "not"; filter: Filter }
  | { op: "present"; tag: string }
  | { op: "eq" | "approx" | "ge" | "le"; tag: string; value: Typed }
  | { op: "substr"; tag: string; parts: string[] };

const WHAT = "predicate";

function classify(text: string): Typed {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) {
    const n = Number(t);
    if (n >= -2147483648 && n <= 2147483647) return { kind: "int", n };
  }
  const l = t.toLowerCase();
  if (l === "true" || l === "false") return { kind: "bool", b: l === "true" };
  return { kind: "str", s: foldString(t) };
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

class Parser {
  pos = 0;
  constructor(readonly s: string) {}

  fail(detail: string, at = this.pos): never {
    throw new SlpSyntaxError(WHAT, detail, at);
  }

  skipSpace(): void {
    while (this.pos < this.s.length && (this.s[this.pos] === " " || this.s[this.pos] === "\t")) this.pos++;
  }

  expect(ch: string): void {
    this.skipSpace();
    if (this.s[this.pos] !== ch) this.fail(this.pos >= this.s.length ? `expected '${ch}' but the predicate ended` : `expected '${ch}', found '${this.s[this.pos]}'`);
    this.pos++;
  }

  filter(depth: number): Filter {
    if (depth > MAX_PREDICATE_DEPTH) this.fail(`nesting deeper than ${MAX_PREDICATE_DEPTH}`);
    this.expect("(");
    this.skipSpace();
    const c = this.s[this.pos];
    let f: Filter;
    if (c === "&" || c === "|") {
      this.pos++;
      const list: Filter[] = [];
      this.skipSpace();
      while (this.s[this.pos] === "(") {
        list.push(this.filter(depth + 1));
        this.skipSpace();
      }
      if (list.length === 0) this.fail(`'${c}' needs at least one filter`);
      f = { op: c === "&" ? "and" : "or", list };
    } else if (c === "!") {
      this.pos++;
      f = { op: "not", filter: this.filter(depth + 1) };
    } else {
      f = this.item();
    }
    this.expect(")");
    return f;
  }

  item(): Filter {
    const start = this.pos;
    const s = this.s;
    while (this.pos < s.length && !"=~<>()".includes(s[this.pos]!)) this.pos++;
    const tag = foldString(this.unescape(s.slice(start, this.pos), start));
    if (tag.length === 0) this.fail("missing attribute tag", start);
    const opc = s[this.pos];
    let op: "eq" | "approx" | "ge" | "le";
    if (opc === "=") {
      op = "eq";
      this.pos++;
    } else if ((opc === "~" || opc === "<" || opc === ">") && s[this.pos + 1] === "=") {
      op = opc === "~" ? "approx" : opc === "<" ? "le" : "ge";
      this.pos += 2;
    } else {
      this.fail(opc === undefined ? "the predicate ended before an operator" : `expected '=', '~=', '<=' or '>=' after the tag, found '${opc}'`);
    }
    const vStart = this.pos;
    while (this.pos < s.length && s[this.pos] !== ")" && s[this.pos] !== "(") this.pos++;
    if (s[this.pos] === "(") this.fail("unescaped '(' in a value");
    const raw = s.slice(vStart, this.pos);
    if (/[<>=~]/.test(raw)) this.fail("unescaped operator character in a value", vStart + raw.search(/[<>=~]/));
    if (op === "eq" && raw.trim() === "*") return { op: "present", tag };
    if (raw.includes("*")) {
      if (op !== "eq") this.fail("wildcards are only allowed with '='", vStart);
      // Outer white space of the whole value is not significant; inner parts keep theirs.
      const pieces = raw.split("*");
      const parts: string[] = [];
      let off = vStart;
      pieces.forEach((p, i) => {
        let u = this.unescape(p, off).toLowerCase().replace(/[ \r\n\t]+/g, " ");
        if (i === 0) u = u.trimStart();
        if (i === pieces.length - 1) u = u.trimEnd();
        parts.push(u);
        off += p.length + 1;
      });
      return { op: "substr", tag, parts };
    }
    if (raw.trim().length === 0) this.fail("empty value", vStart);
    if (/^\s*\\ff/i.test(raw)) {
      const body = raw.trim().slice(3);
      if (!/^(\\[0-9a-fA-F]{2})+$/.test(body)) this.fail("opaque value must be \\FF followed by \\HH escapes", vStart);
      const bytes = new Uint8Array(body.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(body.slice(i * 3 + 1, i * 3 + 3), 16);
      return { op, tag, value: { kind: "opaque", bytes } };
    }
    return { op, tag, value: classify(this.unescape(raw, vStart)) };
  }

  unescape(text: string, base: number): string {
    let out = "";
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 ? code !== 0x09 : code === 0x7f) this.fail("raw control character", base + i);
      if (code !== 0x5c) {
        out += text[i];
        continue;
      }
      if (!(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))) this.fail("backslash not followed by two hex digits", base + i);
      const v = Number.parseInt(text.slice(i + 1, i + 3), 16);
      if (v >= 0x80) this.fail(`escape \\${text.slice(i + 1, i + 3)} is not a reserved character`, base + i);
      out += String.fromCharCode(v);
      i += 2;
    }
    return out;
  }
}

/** Parses a predicate; "" (or only white space) means "match everything" and yields null. */
export function parsePredicate(predicate: string): Filter | null {
  if (Buffer.byteLength(predicate, "utf8") > MAX_PREDICATE_BYTES) {
    throw new SlpSyntaxError(WHAT, `longer than ${MAX_PREDICATE_BYTES} bytes`, MAX_PREDICATE_BYTES);
  }
  if (predicate.trim().length === 0) return null;
  const p = new Parser(predicate);
  const f = p.filter(1);
  p.skipSpace();
  if (p.pos !== predicate.length) p.fail("text after the closing ')'");
  return f;
}

// ---------------------------------------------------------------- evaluation

/** Attributes indexed by folded tag, built once per service entry. */
export type AttrIndex = Map<string, Attribute>;

export function indexAttributes(attrs: readonly Attribute[]): AttrIndex {
  const m: AttrIndex = new Map();
  for (const a of attrs) {
    const k = foldString(a.tag);
    const have = m.get(k);
    if (!have) m.set(k, a);
    else if (a.values) m.set(k, { tag: have.tag, values: [...(have.values ?? []), ...a.values] });
  }
  return m;
}

function typedOf(v: string | Opaque): Typed {
  return v instanceof Opaque ? { kind: "opaque", bytes: v.bytes } : classify(v);
}

function compareOne(op: "eq" | "approx" | "ge" | "le", have: Typed, want: Typed): boolean {
  if (have.kind !== want.kind) return false;
  switch (have.kind) {
    case "int": {
      const w = (want as { n: number }).n;
      return op === "ge" ? have.n >= w : op === "le" ? have.n <= w : have.n === w;
    }
    case "bool":
      return (op === "eq" || op === "approx") && have.b === (want as { b: boolean }).b;
    case "str": {
      const w = (want as { s: string }).s;
      return op === "ge" ? have.s >= w : op === "le" ? have.s <= w : have.s === w;
    }
    case "opaque":
      return (op === "eq" || op === "approx") && Buffer.from(have.bytes).equals(Buffer.from((want as { bytes: Uint8Array }).bytes));
  }
}

function itemMatchesValue(f: Filter, v: string | Opaque): boolean {
  if (f.op === "substr") return typeof v === "string" && classify(v).kind === "str" && globMatch(foldString(v), f.parts);
  if (f.op === "eq" || f.op === "approx" || f.op === "ge" || f.op === "le") return compareOne(f.op, typedOf(v), f.value);
  return false;
}

export function evaluate(f: Filter, attrs: AttrIndex): boolean {
  switch (f.op) {
    case "and":
      return f.list.every((x) => evaluate(x, attrs));
    case "or":
      return f.list.some((x) => evaluate(x, attrs));
    case "present":
      return attrs.has(f.tag);
    case "not": {
      const inner = f.filter;
      if (inner.op === "eq" || inner.op === "approx" || inner.op === "ge" || inner.op === "le" || inner.op === "substr") {
        // RFC 2608 §8.1: "(!(Y=0))" matches (y=0,1), since Y can be non-zero.
        const a = attrs.get(inner.tag);
        if (!a || !a.values) return true;
        return a.values.some((v) => !itemMatchesValue(inner, v));
      }
      return !evaluate(inner, attrs);
    }
    default: {
      const a = attrs.get(f.tag);
      if (!a || !a.values) return false;
      return a.values.some((v) => itemMatchesValue(f, v));
    }
  }
}

/** A small cache of parsed predicates: UAs repeat the same few, attackers get bounded memory. */
export class PredicateCache {
  private map = new Map<string, Filter | null | SlpSyntaxError>();
  constructor(private readonly max = 64) {}

  /** The parsed filter, null for "match all", or the syntax error. */
  get(predicate: string): Filter | null | SlpSyntaxError {
    const hit = this.map.get(predicate);
    if (hit !== undefined) return hit;
    let v: Filter | null | SlpSyntaxError;
    try {
      v = parsePredicate(predicate);
    } catch (err) {
      if (!(err instanceof SlpSyntaxError)) throw err;
      v = err;
    }
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(predicate, v);
    return v;
  }
}
