// String lists (RFC 2608 §2.1): comma-separated, with reserved characters escaped, so a
// plain split on "," is exact. Items are trimmed; empty items are dropped.

/** Splits a string list; leading/trailing whitespace of each item is not significant. */
export function splitList(s: string): string[] {
  if (s.length === 0) return [];
  const out: string[] = [];
  for (const part of s.split(",")) {
    const t = part.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}
