// Fuzz-ish robustness: truncated and mutated fixtures must either parse to the same tree saxes builds,
// or raise XmlError; nothing else, and nothing that does not finish (bun's test timeout bounds each case).
// Deterministic: a seeded PRNG, so a failure reproduces.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { EsxkitError, XmlError } from "../../src/errors.ts";
import { decodeResponse } from "../../src/vsphere/soap/decode.ts";
import { parseXml } from "../../src/vsphere/xml/parse.ts";
import { plainFromOurs, plainFromSaxes } from "../support/vsphere/xml-trees.ts";

const dir = resolve(import.meta.dir, "../fixtures/vim25");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".xml") && statSync(resolve(dir, f)).size < 60_000)
  .sort();

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = ["<", ">", "&", ";", '"', "'", "/", "=", "!", "?", "[", "]", "-", ":", " ", "#", "x", "\u0001", "&#", "<!--", "]]>", "<![CDATA[", "</", "&amp;", "xmlns:q='u'"];

function mutate(xml: string, rnd: () => number): string {
  const at = Math.floor(rnd() * xml.length);
  const pick = () => SPECIAL[Math.floor(rnd() * SPECIAL.length)] as string;
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return xml.slice(0, at) + xml.slice(at + 1 + Math.floor(rnd() * 3));
    case 1:
      return xml.slice(0, at) + pick() + xml.slice(at);
    case 2:
      return xml.slice(0, at) + pick() + xml.slice(at + 1);
    case 3: {
      const len = 1 + Math.floor(rnd() * 40);
      return xml.slice(0, at) + xml.slice(at, at + len) + xml.slice(at);
    }
    default: {
      const other = Math.floor(rnd() * xml.length);
      return xml.slice(0, at) + xml.slice(other, other + 8) + xml.slice(at + 8);
    }
  }
}

/** Our outcome for one input: the tree, or the XmlError. Any other exception fails the test. */
function ours(xml: string): ReturnType<typeof plainFromOurs> | XmlError {
  try {
    return plainFromOurs(parseXml(xml));
  } catch (e) {
    if (e instanceof XmlError) return e;
    throw new Error(`non-XmlError ${String(e)} for input ${JSON.stringify(xml.slice(0, 200))}`);
  }
}

function saxes(xml: string): ReturnType<typeof plainFromSaxes> | Error {
  try {
    return plainFromSaxes(xml);
  } catch (e) {
    return e as Error;
  }
}

describe("truncated fixtures always raise XmlError", () => {
  test.each(fixtures)("%s", (file) => {
    const xml = readFileSync(resolve(dir, file), "utf8");
    const rootEnd = xml.lastIndexOf(">");
    const rnd = prng(xml.length);
    const cuts = [0, 1, rootEnd, rootEnd - 1, ...Array.from({ length: 60 }, () => Math.floor(rnd() * rootEnd))];
    for (const cut of cuts) {
      const result = ours(xml.slice(0, cut));
      expect(result).toBeInstanceOf(XmlError);
      expect(() => decodeResponse(xml.slice(0, cut))).toThrow(XmlError);
    }
  });
});

describe("mutated fixtures: same tree as saxes, or XmlError", () => {
  test.each(fixtures)("%s", (file) => {
    const xml = readFileSync(resolve(dir, file), "utf8");
    const rnd = prng(0x5eed ^ xml.length);
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < 300; n++) {
      let input = mutate(xml, rnd);
      if (n % 3 === 0) input = mutate(input, rnd);
      const a = ours(input);
      const b = saxes(input);
      if (a instanceof XmlError) {
        rejected++;
        continue;
      }
      accepted++;
      // We accepted it: a strict parser must agree, with the same tree. No silent wrong tree.
      if (b instanceof Error) throw new Error(`accepted input saxes rejects (${b.message}): ${JSON.stringify(input)}`);
      expect(a).toEqual(b);
      // And the vim25 decoder on top raises only our own errors.
      try {
        decodeResponse(input);
      } catch (e) {
        if (!(e instanceof EsxkitError)) throw e;
      }
    }
    expect(accepted + rejected).toBe(300);
    expect(rejected).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });
});
