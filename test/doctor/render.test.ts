// The three renderers on a fixed report: grouping and order, colour only on request, wrapping,
// JSON round trip, Markdown escaping and structure; and the exit code rule.
import { describe, expect, test } from "bun:test";
import { makeFinding, ev } from "../../src/doctor/finding.ts";
import { JSON_SCHEMA_ID, renderJson } from "../../src/doctor/render/json.ts";
import { cell, renderMarkdown } from "../../src/doctor/render/markdown.ts";
import { renderText, shouldColor, wrap } from "../../src/doctor/render/text.ts";
import { type Finding, type Report, exitCodeFor, sortFindings, summarize } from "../../src/doctor/types.ts";

function report(findings: Finding[]): Report {
  const sorted = sortFindings(findings);
  return {
    generatedAt: "2026-11-21T10:00:00.000Z",
    esxkitVersion: "0.1.0",
    targets: [
      { name: "vc", url: "https://vc.lab/sdk", kind: "vcenter", product: "VMware vCenter Server 6.7.0 build-15976728" },
      { name: "esx9", url: "https://esx9.lab/sdk", kind: "esxi", error: "connect ECONNREFUSED" },
    ],
    findings: sorted,
    summary: summarize(sorted),
    exitCode: exitCodeFor(sorted),
  };
}

const usb = makeFinding("usb-boot.critical-build", {
  target: "esx1",
  title: "esx1 runs ESXi 7.0.2 build 17867351 (7.0 U2a) and boots from USB/SD media",
  evidence: [ev("esx1", "config.product.build", "17867351"), ev("esx1", "config.storageDevice.hostBusAdapter[vmhba32].driver", "vmkusb")],
  vars: { host: "esx1", fixedRelease: "7.0 U2c", fixedBuild: 18426014 },
});
const msm = makeFinding("msm-discovery.slpd-stopped", {
  target: "esx2",
  title: "MegaRAID Storage Manager will not discover esx2: slpd is stopped",
  evidence: [ev("esx2", "serviceInfo.service[slpd].running", false)],
  vars: { host: "esx2" },
  snippet: '[[slp]]\nhost = "esx2.lab"\nprofile = "lsi-msm"',
});
const evcWarn = makeFinding("evc.cold-cycle-mismatch", {
  target: "cluster C|1",
  title: "cpuid.MDCLEAR differs within cluster C|1: 1 on esx1; 0 on esx2",
  evidence: [ev("esx1", "config.featureCapability[cpuid.MDCLEAR]", "1"), ev("vm_a|b", "runtime.featureRequirement[cpuid.mdclear]", "Bool:Min:1\n(running on esx1)")],
  vars: { cycleHosts: "esx2", key: "cpuid.MDCLEAR", wanted: "1", group: "cluster C|1", featureHosts: "esx1" },
});
const ok = makeFinding("upgrade-order.ok", { target: "vc", title: "vCenter is not older than any of its 2 ESXi hosts", evidence: [ev("vc", "about.version", "7.0.3")] });

describe("exit code and order", () => {
  test.each([
    [[], 0],
    [[ok], 0],
    [[ok, makeFinding("evc.nothing-to-compare", { target: "x", title: "t" })], 0],
    [[ok, evcWarn], 1],
    [[evcWarn, usb, ok], 2],
  ] as [Finding[], number][])("findings %# → exit %d", (fs, code) => {
    expect(exitCodeFor(fs)).toBe(code as 0 | 1 | 2);
  });

  test("sortFindings: critical, warning, info, ok", () => {
    expect(sortFindings([ok, msm, usb, evcWarn]).map((f) => f.severity)).toEqual(["critical", "warning", "warning", "ok"]);
  });
});

describe("text", () => {
  const r = report([ok, evcWarn, usb, msm]);

  test("groups by severity, most severe first, with evidence, fix, snippet and sources", () => {
    const text = renderText(r, { color: false, width: 120 });
    const order = ["CRITICAL (1)", "WARNING (2)", "OK (1)"].map((h) => text.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain("usb-boot");
    expect(text).toContain("· esx1 config.product.build = 17867351");
    expect(text).toContain("fix: Update esx1 to 7.0 U2c (18426014) or later");
    expect(text).toContain('    host = "esx2.lab"');
    expect(text).toContain("(build 18426014) (unverified)");
    expect(text).toContain("unreachable: connect ECONNREFUSED");
    expect(text).toMatch(/1 critical, 2 warning, 0 info, 1 ok — exit 2\n$/);
    expect(text).not.toContain("\x1b[");
  });

  test("ok findings show their evidence only with verbose", () => {
    expect(renderText(r, { color: false })).not.toContain("about.version = 7.0.3");
    expect(renderText(r, { color: false, verbose: true })).toContain("about.version = 7.0.3");
  });

  test("colour on request: severities coloured, reset after each", () => {
    const text = renderText(r, { color: true, width: 120 });
    expect(text).toContain("\x1b[1;31mCRITICAL (1)\x1b[0m");
    expect(text).toContain("\x1b[1;33mWARNING (2)\x1b[0m");
    expect(text).toContain("\x1b[32mOK (1)\x1b[0m");
  });

  test("no line is wider than the width asked for", () => {
    for (const width of [80, 100, 140]) {
      const lines = renderText(r, { color: false, width }).split("\n");
      const wide = lines.filter((l) => l.length > width && !l.startsWith("  vcenter") && !l.startsWith("  esxi"));
      expect(wide).toEqual([]);
    }
  });

  test.each([
    ["a TTY", { isTTY: true }, {}, true],
    ["a pipe", { isTTY: false }, {}, false],
    ["a stream without isTTY", {}, {}, false],
    ["a TTY with NO_COLOR=1", { isTTY: true }, { NO_COLOR: "1" }, false],
    ["a TTY with NO_COLOR empty", { isTTY: true }, { NO_COLOR: "" }, true],
  ])("colour on %s: %#", (_, stream, env, color) => {
    expect(shouldColor(stream, env as NodeJS.ProcessEnv)).toBe(color);
  });

  test("wrap keeps words and cuts only words longer than the width", () => {
    expect(wrap("aa bb cc dd", 5)).toEqual(["aa bb", "cc dd"]);
    expect(wrap("abcdefghij xy", 4)).toEqual(["abcd", "efgh", "ij", "xy"]);
    expect(wrap("one\ntwo", 20)).toEqual(["one", "two"]);
  });
});

describe("json", () => {
  test("round-trips the report with a schema id", () => {
    const r = report([ok, evcWarn, usb, msm]);
    const parsed = JSON.parse(renderJson(r));
    expect(parsed.schema).toBe(JSON_SCHEMA_ID);
    const { schema: _, ...rest } = parsed;
    expect(rest).toEqual(JSON.parse(JSON.stringify(r)));
    expect(parsed.exitCode).toBe(2);
    expect(parsed.findings[0].rule).toBe("usb-boot.critical-build");
    expect(parsed.findings[0].sources.some((s: { verified: boolean }) => s.verified === false)).toBe(true);
  });
});

describe("markdown", () => {
  const md = renderMarkdown(report([ok, evcWarn, usb, msm]));

  test("sections: scope, summary, findings by severity, passed checks, about", () => {
    const heads = md.split("\n").filter((l) => l.startsWith("#"));
    expect(heads[0]).toBe("# vSphere health report");
    expect(heads).toContain("## Scope");
    expect(heads).toContain("## Summary");
    expect(heads.indexOf("## Critical findings")).toBeLessThan(heads.indexOf("## Warning findings"));
    expect(heads).toContain("## Checks passed");
    expect(heads[heads.length - 1]).toBe("## About the checks");
    expect(md).toContain("**Action required:** critical findings below.");
    expect(md).toContain("| Critical | 1 |");
  });

  test("evidence tables escape pipes and line breaks", () => {
    expect(md).toContain("| vm_a\\|b |");
    expect(md).not.toContain("Bool:Min:1\n(running");
    expect(cell("a|b\nc")).toBe("a\\|b c");
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes("featureRequirement"));
    expect(rows).toHaveLength(1);
    expect((rows[0] as string).split(/(?<!\\)\|/).length).toBe(5);
  });

  test("snippet as a toml code block; sources with links and unverified marks", () => {
    expect(md).toContain('```toml\n[[slp]]\nhost = "esx2.lab"\nprofile = "lsi-msm"\n```');
    expect(md).toContain("[Ward Vissers: SD card boot issue in ESXi 7.x");
    expect(md).toContain("(https://www.wardvissers.nl/tag/sdcard/)");
    expect(md).toMatch(/ESXi 7\.0 Update 2c release notes.*\*\(unverified\)\*/);
    expect(md).toContain("**unreachable:** connect ECONNREFUSED");
  });

  test("a clean report says so", () => {
    const clean = renderMarkdown(report([ok]));
    expect(clean).toContain("**No problems found.**");
    expect(clean).not.toContain("## Critical findings");
  });
});
