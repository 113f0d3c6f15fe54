// What `esxkit doctor` produces: findings with a severity, the evidence they rest on and
// the fix, gathered into a report that the renderers (text, JSON, Markdown) print.

export type Severity = "ok" | "info" | "warning" | "critical";

/** Most severe first: the order of report groups. */
export const SEVERITIES_DESC: readonly Severity[] = ["critical", "warning", "info", "ok"];

const RANK: Record<Severity, number> = { ok: 0, info: 1, warning: 2, critical: 3 };

export function maxSeverity(list: Iterable<Severity>): Severity {
  let worst: Severity = "ok";
  for (const s of list) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** The checks of issue 7, plus "endpoint" for targets the doctor could not read. */
export type CheckId = "evc" | "upgrade-order" | "usb-boot" | "msm-discovery" | "watchdog" | "serial-console" | "endpoint";

/** One observed fact: which object, which property, which value. */
export interface Evidence {
  /** The host (or VM, datastore, BMC…) the value was read from. */
  object: string;
  property: string;
  value: string;
}

/** A public source a rule rests on (from rules.json). */
export interface SourceRef {
  id: string;
  title: string;
  /** Only when the notes give one; never guessed. */
  url?: string;
  /** false: not confirmed in a public text we could read (marked "unverified" in reports). */
  verified: boolean;
}

export interface Finding {
  check: CheckId;
  /** The rule id in rules.json, e.g. "usb-boot.critical-build". */
  rule: string;
  severity: Severity;
  /** What the finding is about: a host, a cluster, a watchdog entry, an endpoint. */
  target: string;
  title: string;
  evidence: Evidence[];
  /** What to do; absent for "ok" findings. */
  fix?: string;
  /** Ready-to-paste config text (the [[slp]] entry of the MSM check). */
  snippet?: string;
  sources: SourceRef[];
}

export interface ReportTarget {
  name: string;
  url: string;
  /** "unknown" for an endpoint given by flags that could not be reached. */
  kind: "vcenter" | "esxi" | "unknown";
  /** about.fullName, or the connection error. */
  product?: string;
  error?: string;
}

export interface ReportSummary {
  critical: number;
  warning: number;
  info: number;
  ok: number;
}

export interface Report {
  generatedAt: string;
  esxkitVersion: string;
  targets: ReportTarget[];
  findings: Finding[];
  summary: ReportSummary;
  /** 0 ok/info only, 1 warnings, 2 critical findings. */
  exitCode: 0 | 1 | 2;
}

/** Exit code for a set of findings: 0 when nothing is worse than info, 1 for warnings, 2 for critical. */
export function exitCodeFor(findings: readonly Finding[]): 0 | 1 | 2 {
  const worst = maxSeverity(findings.map((f) => f.severity));
  return worst === "critical" ? 2 : worst === "warning" ? 1 : 0;
}

export function summarize(findings: readonly Finding[]): ReportSummary {
  const s: ReportSummary = { critical: 0, warning: 0, info: 0, ok: 0 };
  for (const f of findings) s[f.severity]++;
  return s;
}

/** Findings sorted most severe first, then by check and target, stable otherwise. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const order: CheckId[] = ["endpoint", "evc", "upgrade-order", "usb-boot", "msm-discovery", "watchdog", "serial-console"];
  return findings
    .map((f, i) => ({ f, i }))
    .sort(
      (a, b) =>
        RANK[b.f.severity] - RANK[a.f.severity] ||
        order.indexOf(a.f.check) - order.indexOf(b.f.check) ||
        a.f.target.localeCompare(b.f.target) ||
        a.i - b.i,
    )
    .map(({ f }) => f);
}
