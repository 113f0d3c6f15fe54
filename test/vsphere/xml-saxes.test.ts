// Cross-check: our tokenizer and saxes (strict, namespace-aware) must build the same tree for every fixture:
// names, prefixes, namespace URIs, attributes with their URIs, and text.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseXml } from "../../src/vsphere/xml/parse.ts";
import { plainFromOurs, plainFromSaxes } from "../support/vsphere/xml-trees.ts";

const dir = resolve(import.meta.dir, "../fixtures/vim25");
const fixtures = readdirSync(dir).filter((f) => f.endsWith(".xml")).sort();

function countElements(el: { children: unknown[] }): number {
  let n = 1;
  for (const c of el.children as Array<{ children: unknown[] }>) n += countElements(c);
  return n;
}

describe("tokenizer vs saxes over test/fixtures/vim25", () => {
  test("the corpus has both simulator captures and vCenter-shaped fixtures", () => {
    expect(fixtures.filter((f) => f.startsWith("vcsim-vpx-")).length).toBeGreaterThanOrEqual(15);
    expect(fixtures.filter((f) => f.startsWith("vcsim-esx-")).length).toBeGreaterThanOrEqual(15);
    expect(fixtures.filter((f) => /^(vcenter|esxi)-/.test(f)).length).toBeGreaterThanOrEqual(5);
  });

  test.each(fixtures)("%s", (file) => {
    const xml = readFileSync(resolve(dir, file), "utf8");
    const ours = plainFromOurs(parseXml(xml));
    const theirs = plainFromSaxes(xml);
    expect(ours).toEqual(theirs);
    expect(ours.ns).toBe("http://schemas.xmlsoap.org/soap/envelope/");
    expect(countElements(ours)).toBeGreaterThanOrEqual(3);
  });
});
