// Normalises WBEM attribute lists captured from real hosts (the file written by
// `esxkit slp attrs --save`, or `slptool findattrs` output). Broken sfcb replies repeat
// Namespace, carry fewer Classinfo entries than namespaces, end lists with empty values
// and never escape; this rebuilds them in template order with one Classinfo per Namespace,
// no empty values, no duplicates, and RFC 2608 §5 escaping applied when serialized.
import { type Attribute, type AttrValue, badTagChar, foldString, mergeAttributes, parseAttrList } from "./attributes.ts";

/** The order sfcb registers the DSP0206 template in; other tags follow in their own order. */
export const WBEM_TEMPLATE_ORDER = [
  "template-type",
  "template-version",
  "template-description",
  "template-url-syntax",
  "service-hi-name",
  "service-hi-description",
  "service-id",
  "CommunicationMechanism",
  "OtherCommunicationMechanismDescription",
  "InteropSchemaNamespace",
  "ProtocolVersion",
  "FunctionalProfilesSupported",
  "FunctionalProfileDescriptions",
  "MultipleOperationsSupported",
  "AuthenticationMechanismsSupported",
  "AuthenticationMechansimDescriptions",
  "Namespace",
  "Classinfo",
  "RegisteredProfilesSupported",
];

const ORDER = new Map(WBEM_TEMPLATE_ORDER.map((t, i) => [t.toLowerCase(), i]));

export interface NormaliseResult {
  attributes: Attribute[];
  /** One line per repair made, for the operator's log. */
  changes: string[];
}

function isEmpty(v: AttrValue): boolean {
  return typeof v === "string" ? v.trim().length === 0 : v.bytes.length === 0;
}

export function normaliseAttributes(input: readonly Attribute[]): NormaliseResult {
  const changes: string[] = [];
  const seen = new Map<string, number>();
  for (const a of input) seen.set(foldString(a.tag), (seen.get(foldString(a.tag)) ?? 0) + 1);
  for (const [tag, n] of seen) if (n > 1) changes.push(`merged ${n} copies of ${tag}`);

  const merged = mergeAttributes([input.map((a) => ({ tag: a.tag.trim(), values: a.values?.filter((v) => !isEmpty(v)) ?? null }))]);
  const notClassinfo = (a: Attribute) => foldString(a.tag) !== "classinfo";
  const before = input.filter(notClassinfo).reduce((n, a) => n + (a.values?.length ?? 0), 0);
  const after = merged.filter(notClassinfo).reduce((n, a) => n + (a.values?.length ?? 0), 0);
  if (after < before) changes.push(`dropped ${before - after} empty or duplicate value(s)`);

  let out: Attribute[] = [];
  for (const a of merged) {
    const bad = badTagChar(a.tag);
    if (bad !== undefined) {
      changes.push(`dropped attribute ${JSON.stringify(a.tag)}: tags may not contain ${JSON.stringify(bad)}`);
      continue;
    }
    if (a.values !== null && a.values.length === 0) {
      changes.push(`dropped ${a.tag}: no values left`);
      continue;
    }
    out.push(a);
  }

  const ns = out.find((a) => foldString(a.tag) === "namespace");
  const ci = out.find((a) => foldString(a.tag) === "classinfo");
  if (ns?.values) {
    const want = ns.values.length;
    // Classinfo values are not a set: "0,0,0" is three entries. Rebuild it from the input.
    const rawCi = input.filter((a) => foldString(a.tag) === "classinfo").flatMap((a) => a.values ?? []).filter((v) => !isEmpty(v));
    const fixed: AttrValue[] = [];
    for (let i = 0; i < want; i++) fixed.push(rawCi[i] ?? "0");
    if (!ci) {
      changes.push(`added Classinfo with ${want} entries (one per Namespace)`);
      out.push({ tag: "Classinfo", values: fixed });
    } else {
      if (rawCi.length !== want) changes.push(`Classinfo had ${rawCi.length} entries for ${want} namespaces; now ${want}`);
      ci.values = fixed;
    }
  } else if (ci) {
    changes.push("dropped Classinfo: there is no Namespace");
    out = out.filter((a) => a !== ci);
  }

  const indexed = out.map((a, i) => ({ a, key: ORDER.get(a.tag.toLowerCase()) ?? WBEM_TEMPLATE_ORDER.length + i }));
  indexed.sort((x, y) => x.key - y.key);
  const sorted = indexed.map((x) => x.a);
  if (sorted.some((a, i) => a !== out[i])) changes.push("reordered attributes into template order");
  return { attributes: sorted, changes };
}

/**
 * Replaces the values of each tag in `overrides` (case-insensitive); an empty list removes
 * the tag; unknown tags are added. Values are plain text (escaping happens on the wire).
 */
export function applyOverrides(attrs: readonly Attribute[], overrides: Readonly<Record<string, readonly string[]>>): Attribute[] {
  const out = attrs.map((a) => ({ tag: a.tag, values: a.values ? [...a.values] : null }));
  for (const [tag, values] of Object.entries(overrides)) {
    const i = out.findIndex((a) => foldString(a.tag) === foldString(tag));
    if (values.length === 0) {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = { tag: out[i]!.tag, values: [...values] };
    else out.push({ tag, values: [...values] });
  }
  return out;
}

/**
 * Reads a captured attribute file: `#` comment lines are ignored, the other lines are
 * attribute lists (one per reply) and are merged. Parsing is lenient, as sfcb never escapes.
 */
export function parseCapturedAttributes(text: string): Attribute[] {
  const lists: Attribute[][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t.length === 0 || t.startsWith("#")) return;
    lists.push(parseAttrList(t, { lenient: true, what: `line ${i + 1}` }));
  });
  return lists.flat();
}

