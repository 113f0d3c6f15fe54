// Character data of the XML tokenizer: entity decoding, line-end and attribute-value normalization
// (XML 1.0 §2.11, §3.3.3), and rejection of characters XML 1.0 forbids. Errors carry absolute offsets.
import { XmlError } from "../../errors.ts";

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

// Anything that needs the slow path. Valid surrogate pairs also match and are accepted there.
const TEXT_SPECIAL = /[&\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]|\]\]>/;
const ATTR_SPECIAL = /[&<\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const CDATA_SPECIAL = /[\r\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Text content between markup, src[start, end). */
export function decodeText(src: string, start: number, end: number): string {
  const s = src.slice(start, end);
  return TEXT_SPECIAL.test(s) ? slowDecode(s, start, false) : s;
}

/** An attribute value without its quotes, src[start, end). */
export function decodeAttr(src: string, start: number, end: number): string {
  const s = src.slice(start, end);
  return ATTR_SPECIAL.test(s) ? slowDecode(s, start, true) : s;
}

/** CDATA content: no entities, but line ends are normalized and forbidden characters rejected. */
export function decodeCdata(src: string, start: number, end: number): string {
  const s = src.slice(start, end);
  return CDATA_SPECIAL.test(s) ? slowDecode(s, start, false, true) : s;
}

/** Comments and processing instructions are skipped, but must still hold only XML 1.0 characters. */
export function checkChars(src: string, start: number, end: number): void {
  const s = src.slice(start, end);
  if (CDATA_SPECIAL.test(s)) slowDecode(s, start, false, true);
}

function slowDecode(s: string, base: number, attr: boolean, cdata = false): string {
  let out = "";
  let last = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 38 && !cdata) {
      const semi = s.indexOf(";", k + 1);
      if (semi < 0 || semi - k > 12) throw new XmlError("unterminated entity reference", base + k);
      out += s.slice(last, k) + resolveEntity(s.slice(k + 1, semi), base + k);
      k = semi;
      last = k + 1;
    } else if (c === 13) {
      out += s.slice(last, k) + (attr ? " " : "\n");
      if (s.charCodeAt(k + 1) === 10) k++;
      last = k + 1;
    } else if (attr && (c === 9 || c === 10)) {
      out += s.slice(last, k) + " ";
      last = k + 1;
    } else if (attr && c === 60) {
      throw new XmlError("'<' in attribute value", base + k);
    } else if (c < 0x20 && c !== 9 && c !== 10) {
      throw new XmlError(`control character U+${hex4(c)} is not allowed in XML 1.0`, base + k);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(k + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw new XmlError("unpaired surrogate", base + k);
      k++;
    } else if (c === 0xfffe || c === 0xffff) {
      throw new XmlError(`character U+${hex4(c)} is not allowed in XML 1.0`, base + k);
    } else if (c === 93 && !attr && !cdata && s.startsWith("]]>", k)) {
      throw new XmlError("']]>' is not allowed in text", base + k);
    }
  }
  return out + s.slice(last);
}

function resolveEntity(name: string, offset: number): string {
  const named = PREDEFINED[name];
  if (named !== undefined) return named;
  let cp = Number.NaN;
  if (/^#[0-9]{1,7}$/.test(name)) cp = Number.parseInt(name.slice(1), 10);
  else if (/^#x[0-9a-fA-F]{1,6}$/.test(name)) cp = Number.parseInt(name.slice(2), 16);
  else throw new XmlError(`unknown entity &${name};`, offset);
  if (!isXmlChar(cp)) throw new XmlError(`character reference &${name}; is not an XML 1.0 character`, offset);
  return String.fromCodePoint(cp);
}

export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, "0");
}
