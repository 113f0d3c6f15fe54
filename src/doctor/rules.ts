// Typed access to rules.json (builds, thresholds, fix texts, sources). The JSON import makes
// `bun build --compile` embed the file in the binary.
import data from "./rules.json" with { type: "json" };
import type { CheckId, Severity, SourceRef } from "./types.ts";

export interface BuildEntry {
  build: number;
  version: string;
  release: string;
  note?: string;
  sources: string[];
}

export interface RuleDef {
  check: CheckId;
  severity: Severity;
  fix?: string;
  sources: string[];
}

export interface EventPattern {
  field: "eventTypeId" | "message";
  match: string;
  severity: Severity;
  what: string;
  usbBootOnly?: boolean;
  verified: boolean;
  sources: string[];
}

export interface RulesData {
  sources: Record<string, { title: string; url?: string; verified: boolean }>;
  builds: { esxi: BuildEntry[]; vcenter: BuildEntry[] };
  evc: { coldCycleKeys: string[] };
  usbBoot: { drivers: string[]; criticalBuilds: number[]; fixedBuild: number; fixedRelease: string; warnMajor: number };
  msm: {
    brokenLine: string;
    brokenFromBuild: number;
    service: string;
    ruleset: string;
    megaraidDrivers: string[];
    severityWithoutMegaraid: Severity;
  };
  events: { lookbackDays: number; patterns: EventPattern[] };
  rules: Record<string, RuleDef>;
}

export const RULES = data as unknown as RulesData;

/** The rule definition; throws for an unknown id (a programming error, caught by the tests). */
export function ruleDef(id: string): RuleDef {
  const r = RULES.rules[id];
  if (!r) throw new Error(`rules.json has no rule "${id}"`);
  return r;
}

export function sourceRefs(ids: readonly string[]): SourceRef[] {
  return ids.map((id) => {
    const s = RULES.sources[id];
    if (!s) throw new Error(`rules.json has no source "${id}"`);
    return { id, title: s.title, ...(s.url ? { url: s.url } : {}), verified: s.verified };
  });
}

/**
 * Fill {placeholders} of a fix text. A placeholder without a value is a programming error:
 * better to fail a test than to hand a customer "{host}".
 */
export function fillTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`fix text needs {${name}}: ${template}`);
    return String(v);
  });
}

/** The rule's fix text with its placeholders filled, or undefined for rules without one. */
export function ruleFix(id: string, vars: Record<string, string | number> = {}): string | undefined {
  const t = ruleDef(id).fix;
  return t === undefined ? undefined : fillTemplate(t, vars);
}

function lookup(list: BuildEntry[], build: string | number): BuildEntry | undefined {
  const n = typeof build === "number" ? build : Number.parseInt(build, 10);
  return list.find((b) => b.build === n);
}

export function esxiRelease(build: string | number): BuildEntry | undefined {
  return lookup(RULES.builds.esxi, build);
}

export function vcenterRelease(build: string | number): BuildEntry | undefined {
  return lookup(RULES.builds.vcenter, build);
}

/** "ESXi 7.0.2 build 17867351 (7.0 U2a)" — the release name only when rules.json knows the build. */
export function describeBuild(product: "ESXi" | "vCenter", version: string, build: string): string {
  const known = product === "ESXi" ? esxiRelease(build) : vcenterRelease(build);
  return `${product} ${version} build ${build}${known ? ` (${known.release})` : ""}`;
}
