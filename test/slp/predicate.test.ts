// LDAPv3 predicates with SLP matching rules (RFC 2608 §8.1, §6.4) and their hard limits.
import { describe, expect, test } from "bun:test";
import { SlpSyntaxError } from "../../src/errors.ts";
import { parseAttrList } from "../../src/slp/attributes.ts";
import { evaluate, indexAttributes, MAX_PREDICATE_BYTES, MAX_PREDICATE_DEPTH, parsePredicate, PredicateCache } from "../../src/slp/predicate.ts";

const attrs = indexAttributes(
  parseAttrList(
    "(x=1,2,3),(y=0,1),(name=Some  String),(flag=true),(Namespace=root/interop,lsi/lsimr13),(q=3),(speed=1000),x-OK,(blob=\\FF\\00\\01),(mixed=34foo)",
  ),
);
const matches = (p: string) => {
  const f = parsePredicate(p);
  return f === null || evaluate(f, attrs);
};

describe("matching", () => {
  test.each([
    ["", true],
    ["   ", true],
    ["(x=3)", true], // multi-valued: ORed (RFC 2608 §8.1)
    ["(x=4)", false],
    ["(!(y=0))", true], // y can be non-zero
    ["(!(x=9))", true],
    ["(!(q=3))", false],
    ["(name=some string)", true], // case-insensitive, white space folded
    ["(NAME=  SOME    STRING  )", true],
    ["(name=some*)", true],
    ["(name=*string)", true],
    ["(name=*me st*)", true],
    ["(name=other*)", false],
    ["(x=33)", false],
    ["(flag=true)", true],
    ["(flag=TRUE)", true],
    ["(flag=1)", false], // types must match
    ["(x=true)", false],
    ["(x>=3)", true],
    ["(x<=0)", false],
    ["(&(q<=3)(speed>=1000))", true], // the RFC's backup example
    ["(&(q<=2)(speed>=1000))", false],
    ["(|(x=33)(name=some string))", true],
    ["(x-OK=*)", true], // keywords match presence
    ["(x-BUSY=*)", false],
    ["(x-ok=1)", false],
    ["(namespace=lsi/lsimr13)", true],
    ["(Namespace=lsi/*)", true],
    ["(blob=\\FF\\00\\01)", true],
    ["(blob=\\FF\\00\\02)", false],
    ["(mixed=34*)", true], // a wildcard makes it a string; 34foo is a string
    ["(x=1*)", false], // strings don't match integers
    ["(name~=SOME STRING)", true],
    ["(missing=*)", false],
    ["(!(missing=1))", true],
  ])("%s → %p", (p, want) => {
    expect(matches(p)).toBe(want);
  });
});

const nest = (n: number) => "(&".repeat(n - 1) + "(x=1)" + ")".repeat(n - 1);

describe("refused predicates (each is a syntax error, never a crash)", () => {
  test.each([
    ["unbalanced", "(&(x=1)"],
    ["extra close", "(x=1))"],
    ["no parentheses", "x=1"],
    ["bad escape", "(x=\\zz)"],
    ["escape of a non-reserved byte", "(x=\\c3)"],
    ["bad opaque", "(x=\\FFzz)"],
    ["wildcard with >=", "(x>=1*)"],
    ["empty and-list", "(&)"],
    ["missing tag", "(=1)"],
    ["missing operator", "(x)"],
    ["raw NUL", "(x=a\u0000b)"],
    ["raw control character", "(x=a\u0001b)"],
    ["nesting 17 deep", nest(MAX_PREDICATE_DEPTH + 1)],
    ["nesting 300 deep", nest(300)],
    ["longer than 1 KB", `(x=${"a".repeat(MAX_PREDICATE_BYTES)})`],
    ["unescaped '(' in a value", "(x=a(b)"],
    ["operator character in a value", "(x=a=b)"],
  ])("%s", (_n, p) => {
    expect(() => parsePredicate(p)).toThrow(SlpSyntaxError);
  });

  test("exactly 16 levels and exactly 1 KB are accepted", () => {
    expect(parsePredicate(nest(MAX_PREDICATE_DEPTH))).not.toBeNull();
    const p = `(x=${"a".repeat(MAX_PREDICATE_BYTES - 4)})`;
    expect(Buffer.byteLength(p)).toBe(MAX_PREDICATE_BYTES);
    expect(parsePredicate(p)).not.toBeNull();
  });

  test("the cache returns the same parse and the same error, and stays bounded", () => {
    const c = new PredicateCache(4);
    expect(c.get("(x=1)")).toBe(c.get("(x=1)"));
    expect(c.get("(x=")).toBeInstanceOf(SlpSyntaxError);
    for (let i = 0; i < 100; i++) c.get(`(x=${i})`);
    expect((c as unknown as { map: Map<string, unknown> }).map.size).toBeLessThanOrEqual(4);
  });
});
