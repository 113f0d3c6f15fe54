// The customer report: scope, summary, every finding that needs action with its evidence, fix
// and sources, then what passed. Plain CommonMark + GFM tables, so it pastes into a ticket,
// a wiki or a PDF converter.
import type { Finding, Report, Severity } from "../types.ts";

const CHECK_TITLES: Record<Finding["check"], string> = {
  endpoint: "Connection",
  evc: "EVC / vMotion compatibility",
  "upgrade-order": "Upgrade order (vCenter before ESXi)",
  "usb-boot": "USB/SD boot media",
  "msm-discovery": "MegaRAID Storage Manager discovery",
  watchdog: "esxkit watchdog readiness",
  "serial-console": "Serial console (esxkit as vSPC)",
};

const SEVERITY_TITLES: Record<Severity, string> = {
  critical: "Critical",
  warning: "Warning",
  info: "Information",
  ok: "Passed",
};

const ABOUT: [Finding["check"], string][] = [
  ["evc", "Hosts of one cluster must expose the same CPU features (`config.featureCapability`), or VMs started on one host cannot vMotion to another. `cpuid.MDCLEAR` in particular may differ until a host is cold power-cycled."],
  ["upgrade-order", "vCenter must never be older than its ESXi hosts: upgrade vCenter first, then ESXi, then the vSAN disk format."],
  ["usb-boot", "ESXi 7.0 U2/U2a booted from USB or SD media can lose its bootbank and become unmanageable; any 7.x wears such media out."],
  ["msm-discovery", "MegaRAID Storage Manager finds ESXi hosts over SLP; esxkit can answer for hosts whose own SLP service is off or broken."],
  ["watchdog", "For each protected VM: its files are visible to every failover host, its network works without vCenter, esxkit runs elsewhere, and every host's BMC answers."],
  ["serial-console", "For each [[bmc]] with serial = true: the VM carries esxkit's serial port, pointed at [console] proxy_uri, and its host's vSPC firewall ruleset lets it dial out."],
];

/** A table cell: no line breaks, pipes escaped. */
export function cell(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** Inline text: escape what would turn into markup. */
export function inline(s: string): string {
  return s.replace(/([\\`*_[\]<>#|])/g, "\\$1");
}

function findingSection(f: Finding, n: number): string[] {
  const out: string[] = [];
  out.push(`### ${n}. ${inline(f.title)}`, "");
  out.push(`**Check:** ${CHECK_TITLES[f.check]} · **Target:** ${inline(f.target)} · **Severity:** ${SEVERITY_TITLES[f.severity]} · **Rule:** \`${f.rule}\``, "");
  if (f.evidence.length) {
    out.push("| Object | Property | Value |", "|---|---|---|");
    for (const e of f.evidence) out.push(`| ${cell(e.object)} | \`${cell(e.property).replace(/`/g, "'")}\` | ${cell(e.value)} |`);
    out.push("");
  }
  if (f.fix) out.push(`**Fix:** ${inline(f.fix)}`, "");
  if (f.snippet) out.push("```toml", f.snippet, "```", "");
  if (f.sources.length) {
    out.push("**Sources:**", "");
    for (const s of f.sources) {
      const title = inline(s.title);
      out.push(`- ${s.url ? `[${title}](${s.url})` : title}${s.verified ? "" : " *(unverified)*"}`);
    }
    out.push("");
  }
  return out;
}

export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const when = report.generatedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC");
  out.push("# vSphere health report", "", `Generated ${when} by esxkit doctor ${report.esxkitVersion}.`, "");

  out.push("## Scope", "", "| Target | Kind | URL | Product |", "|---|---|---|---|");
  for (const t of report.targets) {
    out.push(`| ${cell(t.name)} | ${t.kind === "vcenter" ? "vCenter" : t.kind === "esxi" ? "ESXi" : "?"} | ${cell(t.url)} | ${t.error ? `**unreachable:** ${cell(t.error)}` : cell(t.product ?? "")} |`);
  }
  out.push("");

  const s = report.summary;
  const verdict =
    report.exitCode === 2 ? "**Action required:** critical findings below." : report.exitCode === 1 ? "**Attention:** warnings below." : "**No problems found.**";
  out.push("## Summary", "", verdict, "", "| Severity | Findings |", "|---|---:|");
  for (const sev of ["critical", "warning", "info", "ok"] as const) out.push(`| ${SEVERITY_TITLES[sev]} | ${s[sev]} |`);
  out.push("");

  let n = 0;
  for (const sev of ["critical", "warning", "info"] as const) {
    const group = report.findings.filter((f) => f.severity === sev);
    if (!group.length) continue;
    out.push(`## ${SEVERITY_TITLES[sev]} findings`, "");
    for (const f of group) out.push(...findingSection(f, ++n));
  }

  const passed = report.findings.filter((f) => f.severity === "ok");
  if (passed.length) {
    out.push("## Checks passed", "");
    for (const f of passed) out.push(`- ${CHECK_TITLES[f.check]}: ${inline(f.title)}`);
    out.push("");
  }

  out.push("## About the checks", "");
  for (const [check, text] of ABOUT) out.push(`- **${CHECK_TITLES[check]}.** ${text}`);
  out.push("", "Findings marked *(unverified)* rest on a field report or a source we could not confirm in public documentation.", "");
  return out.join("\n");
}
