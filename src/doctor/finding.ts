// Builds a Finding from a rule of rules.json: severity, fix text and sources come from the
// data file; the check supplies target, title, evidence and the fix's placeholders.
import { ruleDef, ruleFix, sourceRefs } from "./rules.ts";
import type { Evidence, Finding, Severity } from "./types.ts";

export interface FindingInput {
  target: string;
  title: string;
  evidence?: Evidence[];
  /** Values for the {placeholders} of the rule's fix text. */
  vars?: Record<string, string | number>;
  snippet?: string;
  /** Overrides the rule's severity (e.g. MSM findings on a host without MegaRAID). */
  severity?: Severity;
  /** Extra source ids on top of the rule's (e.g. an event pattern's). */
  extraSources?: string[];
}

export function makeFinding(rule: string, input: FindingInput): Finding {
  const def = ruleDef(rule);
  const ids = [...def.sources, ...(input.extraSources ?? []).filter((s) => !def.sources.includes(s))];
  const f: Finding = {
    check: def.check,
    rule,
    severity: input.severity ?? def.severity,
    target: input.target,
    title: input.title,
    evidence: input.evidence ?? [],
    sources: sourceRefs(ids),
  };
  const fix = ruleFix(rule, input.vars);
  if (fix !== undefined) f.fix = fix;
  if (input.snippet !== undefined) f.snippet = input.snippet;
  return f;
}

export function ev(object: string, property: string, value: unknown): Evidence {
  return { object, property, value: value === undefined ? "(not set)" : String(value) };
}

/** "a, b and c" */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
