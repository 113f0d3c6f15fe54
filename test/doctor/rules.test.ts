// rules.json is data the customer reads: every rule must exist where the code names it, every
// source it cites must exist, every fix text must fill, and the build table must be consistent.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RULES, describeBuild, esxiRelease, fillTemplate, ruleDef, sourceRefs } from "../../src/doctor/rules.ts";
import { compareVersions, isOlder, updateOfRelease, versionLevel } from "../../src/doctor/versions.ts";

const srcDir = join(import.meta.dir, "../../src/doctor");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Rule ids the code passes to makeFinding, plus those it builds from a union type. */
function ruleIdsInCode(): Set<string> {
  const ids = new Set<string>();
  for (const f of sourceFiles(srcDir)) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/"((?:endpoint|evc|upgrade-order|usb-boot|msm-discovery|watchdog|serial-console)\.[a-z0-9-]+)"/g)) ids.add(m[1] as string);
  }
  return ids;
}

describe("rules.json", () => {
  test("every rule id used in src/doctor exists, and every rule is used", () => {
    const used = ruleIdsInCode();
    const defined = new Set(Object.keys(RULES.rules));
    expect([...used].filter((id) => !defined.has(id))).toEqual([]);
    expect([...defined].filter((id) => !used.has(id))).toEqual([]);
  });

  test("every cited source exists, and every source is cited", () => {
    const cited = new Set<string>([
      ...Object.values(RULES.rules).flatMap((r) => r.sources),
      ...RULES.builds.esxi.flatMap((b) => b.sources),
      ...RULES.builds.vcenter.flatMap((b) => b.sources),
      ...RULES.events.patterns.flatMap((p) => p.sources),
    ]);
    expect(() => sourceRefs([...cited])).not.toThrow();
    expect(Object.keys(RULES.sources).filter((id) => !cited.has(id))).toEqual([]);
  });

  test("sources carry a URL only as a full http(s) address", () => {
    for (const [id, s] of Object.entries(RULES.sources)) {
      if (s.url !== undefined) expect(s.url, id).toMatch(/^https?:\/\/[^\s]+$/);
      expect(typeof s.verified, id).toBe("boolean");
    }
  });

  test("rule severities and checks are valid; fix texts fill", () => {
    for (const [id, r] of Object.entries(RULES.rules)) {
      expect(["ok", "info", "warning", "critical"], id).toContain(r.severity);
      expect(id.startsWith(`${r.check}.`), id).toBe(true);
      if (r.severity !== "ok" && r.severity !== "info") expect(r.fix, `${id} needs a fix text`).toBeTruthy();
      if (r.fix) {
        const names = [...r.fix.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
        const vars = Object.fromEntries(names.map((n) => [n, "X"]));
        expect(fillTemplate(r.fix, vars)).not.toMatch(/\{\w+\}/);
      }
    }
  });

  test("a missing placeholder value is an error, not a customer-visible {placeholder}", () => {
    expect(() => fillTemplate("update {host}", {})).toThrow("{host}");
    expect(() => ruleDef("no.such-rule")).toThrow();
  });

  test("builds: unique, ascending within each version line, versions and releases agree", () => {
    for (const list of [RULES.builds.esxi, RULES.builds.vcenter]) {
      expect(new Set(list.map((b) => b.build)).size).toBe(list.length);
      const byLine = new Map<string, number>();
      for (const b of list) {
        const line = b.version.split(".").slice(0, 2).join(".");
        expect(b.release.startsWith(line), `${b.build} ${b.release} vs ${b.version}`).toBe(true);
        const prev = byLine.get(b.version) ?? 0;
        expect(b.build, `${b.release}`).toBeGreaterThan(prev);
        byLine.set(b.version, b.build);
      }
    }
  });

  test("the builds the checks name are in the table", () => {
    for (const b of [...RULES.usbBoot.criticalBuilds, RULES.usbBoot.fixedBuild, RULES.msm.brokenFromBuild]) expect(esxiRelease(b), String(b)).toBeDefined();
    expect(esxiRelease(RULES.usbBoot.fixedBuild)?.release).toBe(RULES.usbBoot.fixedRelease);
    expect(esxiRelease(17867351)?.release).toBe("7.0 U2a");
    expect(esxiRelease(8294253)?.release).toBe("6.5 U2");
  });

  test("event patterns compile", () => {
    for (const p of RULES.events.patterns) expect(() => new RegExp(p.match)).not.toThrow();
  });

  test.each([
    ["ESXi", "7.0.2", "17867351", "ESXi 7.0.2 build 17867351 (7.0 U2a)"],
    ["ESXi", "7.0.3", "99", "ESXi 7.0.3 build 99"],
    ["vCenter", "6.7.0", "15976728", "vCenter 6.7.0 build 15976728 (6.7 U3f)"],
  ] as const)("describeBuild(%s, %s, %s)", (product, version, build, text) => {
    expect(describeBuild(product, version, build)).toBe(text);
  });
});

describe("versions", () => {
  test.each([
    ["6.5.0", "6.7.0", -1],
    ["7.0.10", "7.0.9", 1],
    ["7.0", "7.0.0", 0],
    ["8.0.2", "8.0.2", 0],
  ])("compareVersions(%s, %s) has sign %d", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });

  test.each([
    ["7.0 U2a", 2],
    ["6.7 U3f", 3],
    ["6.5 EP09", undefined],
  ])("updateOfRelease(%s) = %p", (release, update) => {
    expect(updateOfRelease(release)).toBe(update);
  });

  test.each([
    ["vCenter 6.7 U3f vs ESXi 6.7 U3", ["vCenter", "6.7.0", "15976728"], ["ESXi", "6.7.0", "14320388"], false],
    ["vCenter 7.0 U1 vs ESXi 7.0 U2", ["vCenter", "7.0.1", "1"], ["ESXi", "7.0.2", "17867351"], true],
    ["vCenter 7.0 U3 vs ESXi 7.0 U2", ["vCenter", "7.0.3", "1"], ["ESXi", "7.0.2", "17867351"], false],
    ["vCenter 6.7 (unknown build) vs ESXi 6.7 U3", ["vCenter", "6.7.0", "1"], ["ESXi", "6.7.0", "14320388"], undefined],
    ["vCenter 6.5 vs ESXi 7.0", ["vCenter", "6.5.0", "1"], ["ESXi", "7.0.0", "1"], true],
  ] as const)("isOlder: %s → %p", (_, a, b, older) => {
    expect(isOlder(versionLevel(a[0], a[1], a[2]), versionLevel(b[0], b[1], b[2]))).toBe(older);
  });
});
