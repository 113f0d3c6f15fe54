// Escaping for XML we write. Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE/FFFF,
// unpaired surrogates) cannot be escaped either (&#1; is not well-formed), so they are rejected.
import { SoapEncodeError } from "../../errors.ts";

const NEEDS_ESCAPE = /[&<>"'\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const REPLACEMENTS: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};
// In attributes, tab and newline are escaped too, or the reader's normalization turns them into spaces.
const ATTR_REPLACEMENTS: Record<string, string> = { ...REPLACEMENTS, "\t": "&#9;", "\n": "&#10;" };

/** Escapes text content. */
export function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeSlow(s, REPLACEMENTS) : s;
}

/** Escapes an attribute value (for either quote style). */
export function escapeAttr(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeSlow(s, ATTR_REPLACEMENTS) : s;
}

function escapeSlow(s: string, table: Record<string, string>): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const rep = table[s[i] as string];
    if (rep === undefined) {
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      }
      if (c < 0x20 ? c !== 9 && c !== 10 : (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) {
        const code = c.toString(16).toUpperCase().padStart(4, "0");
        throw new SoapEncodeError(`character U+${code} at index ${i} cannot be sent in XML 1.0`);
      }
      continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last);
}
