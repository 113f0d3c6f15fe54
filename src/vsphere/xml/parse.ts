// A small, strict-enough XML tokenizer that builds an element tree with namespaces resolved.
// Written for vim25 SOAP responses: no DTDs (DOCTYPE is refused, so no entity expansion), the five
// predefined entities plus character references, CDATA, comments and PIs skipped. Malformed input raises
// XmlError with the offset; it never loops forever and never returns a tree for input it did not fully read.
// Cross-checked against saxes over the fixture corpus (test/vsphere/xml-saxes.test.ts).
import { XmlError } from "../../errors.ts";
import { checkChars, decodeAttr, decodeCdata, decodeText } from "./text.ts";

export interface XmlElement {
  /** qualified name as written, e.g. "soapenv:Body" */
  name: string;
  prefix: string;
  local: string;
  /** attributes by qualified name as written (xmlns declarations included) */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** all direct character data (text and CDATA) concatenated, entities decoded */
  text: string;
  /** namespace URI of the element ("" when in no namespace) */
  ns: string;
  /** resolves a prefix in scope at this element to its URI ("" = default namespace); undefined if unbound */
  resolvePrefix(prefix: string): string | undefined;
}

export interface ParseOptions {
  /** elements nested deeper than this raise XmlError (protects the recursive decoder). Default 1000. */
  maxDepth?: number;
}

export const NS_XML = "http://www.w3.org/XML/1998/namespace";
export const NS_XMLNS = "http://www.w3.org/2000/xmlns/";

/** Prefix → URI, a null-prototype object chained to the parent element's scope. */
type Scope = Record<string, string>;

const ROOT_SCOPE: Scope = Object.assign(Object.create(null), { xml: NS_XML, xmlns: NS_XMLNS });

class Element implements XmlElement {
  children: XmlElement[] = [];
  text = "";
  ns = "";
  readonly #scope: Scope;
  constructor(
    readonly name: string,
    readonly prefix: string,
    readonly local: string,
    readonly attrs: Record<string, string>,
    scope: Scope,
  ) {
    this.#scope = scope;
  }
  static scopeOf(el: Element): Scope {
    return el.#scope;
  }
  resolvePrefix(prefix: string): string | undefined {
    if (prefix === "") return this.#scope[""] ?? "";
    return this.#scope[prefix];
  }
}

export function parseXml(text: string, options: ParseOptions = {}): XmlElement {
  const maxDepth = options.maxDepth ?? 1000;
  const len = text.length;
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: Element[] = [];
  let root: Element | undefined;
  let cur: Element | undefined;
  let i = start;

  while (i < len) {
    const lt = text.indexOf("<", i);
    const end = lt < 0 ? len : lt;
    if (end > i) {
      if (cur) cur.text += decodeText(text, i, end);
      else if (!isBlank(text, i, end)) throw new XmlError(`text ${root ? "after" : "before"} the root element`, i);
    }
    if (lt < 0) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 47 /* / */) {
      if (!cur) throw new XmlError("close tag without a matching open tag", lt);
      let nameEnd = lt + 2 + cur.name.length;
      if (!text.startsWith(cur.name, lt + 2) || isNameChar(text.charCodeAt(nameEnd))) {
        nameEnd = scanName(text, lt + 2);
        throw new XmlError(`close tag </${text.slice(lt + 2, nameEnd)}> does not match <${cur.name}>`, lt);
      }
      i = skipBlank(text, nameEnd);
      if (text.charCodeAt(i) !== 62) throw new XmlError(`malformed close tag </${cur.name}`, i);
      i++;
      stack.pop();
      cur = stack[stack.length - 1];
    } else if (c === 33 /* ! */) {
      i = skipDeclaration(text, lt, cur);
      if (i < 0) {
        // CDATA section: content is text of the current element
        const close = text.indexOf("]]>", lt + 9);
        if (close < 0) throw new XmlError("unterminated CDATA section", lt);
        (cur as Element).text += decodeCdata(text, lt + 9, close);
        i = close + 3;
      }
    } else if (c === 63 /* ? */) {
      i = skipProcessingInstruction(text, lt, start);
    } else {
      if (root && !cur) throw new XmlError("content after the root element", lt);
      if (stack.length >= maxDepth) throw new XmlError(`elements nested deeper than ${maxDepth}`, lt);
      const parentScope = cur ? Element.scopeOf(cur) : ROOT_SCOPE;
      const el = readStartTag(text, lt, parentScope);
      i = tagEnd;
      if (cur) cur.children.push(el);
      else root = el;
      if (!tagSelfClosing) {
        stack.push(el);
        cur = el;
      }
    }
  }
  if (cur) throw new XmlError(`unclosed element <${cur.name}>`, len);
  if (!root) throw new XmlError("no root element", len);
  return root;
}

// Second and third results of readStartTag (saves an allocation per element on the hot path).
let tagEnd = 0;
let tagSelfClosing = false;

function readStartTag(text: string, lt: number, parentScope: Scope): Element {
  const nameEnd = scanName(text, lt + 1);
  const name = text.slice(lt + 1, nameEnd);
  const attrs: Record<string, string> = Object.create(null);
  let scope = parentScope;
  let prefixedAttrs: string[] | undefined;
  let i = nameEnd;
  let selfClosing = false;
  for (;;) {
    const gap = i;
    i = skipBlank(text, i);
    const ch = text.charCodeAt(i);
    if (ch === 62 /* > */) {
      i++;
      break;
    }
    if (ch === 47 /* / */) {
      if (text.charCodeAt(i + 1) !== 62) throw new XmlError(`expected '>' after '/' in <${name}>`, i + 1);
      i += 2;
      selfClosing = true;
      break;
    }
    if (i >= text.length) throw new XmlError(`unclosed start tag <${name}>`, lt);
    if (i === gap) throw new XmlError(`expected whitespace, '>' or '/>' in <${name}>`, i);
    const attrEnd = scanName(text, i);
    const attr = text.slice(i, attrEnd);
    i = skipBlank(text, attrEnd);
    if (text.charCodeAt(i) !== 61 /* = */) throw new XmlError(`expected '=' after attribute ${attr}`, i);
    i = skipBlank(text, i + 1);
    const quote = text.charCodeAt(i);
    if (quote !== 34 && quote !== 39) throw new XmlError(`value of attribute ${attr} must be quoted`, i);
    const close = text.indexOf(quote === 34 ? '"' : "'", i + 1);
    if (close < 0) throw new XmlError(`unterminated value of attribute ${attr}`, i);
    if (attr in attrs) throw new XmlError(`duplicate attribute ${attr}`, gap);
    const value = decodeAttr(text, i + 1, close);
    attrs[attr] = value;
    if (attr === "xmlns" || attr.startsWith("xmlns:")) {
      if (scope === parentScope) scope = Object.create(parentScope) as Scope;
      declare(scope, attr, value, gap);
    } else if (attr.includes(":")) {
      (prefixedAttrs ??= []).push(attr);
    }
    i = close + 1;
  }
  const colon = name.indexOf(":");
  if (colon >= 0) checkQName(name, colon, lt + 1);
  const prefix = colon < 0 ? "" : name.slice(0, colon);
  const el = new Element(name, prefix, colon < 0 ? name : name.slice(colon + 1), attrs, scope);
  const ns = prefix === "" ? (scope[""] ?? "") : scope[prefix];
  if (ns === undefined) throw new XmlError(`unbound namespace prefix ${prefix} on <${name}>`, lt);
  el.ns = ns;
  if (prefixedAttrs) {
    for (const attr of prefixedAttrs) {
      const colon = attr.indexOf(":");
      checkQName(attr, colon, lt);
      const p = attr.slice(0, colon);
      if (scope[p] === undefined) throw new XmlError(`unbound namespace prefix ${p} on attribute ${attr}`, lt);
    }
  }
  tagEnd = i;
  tagSelfClosing = selfClosing;
  return el;
}

function declare(scope: Scope, attr: string, value: string, offset: number): void {
  // Surrounding whitespace is not part of a namespace name (saxes and libxml2 agree).
  const uri = value.trim();
  if (attr === "xmlns") {
    if (uri === NS_XML || uri === NS_XMLNS) throw new XmlError(`reserved namespace ${uri} bound as default`, offset);
    scope[""] = uri;
    return;
  }
  checkQName(attr, 5, offset);
  const prefix = attr.slice(6);
  if (uri === "") throw new XmlError(`prefix ${prefix} cannot be undeclared in XML 1.0`, offset);
  if (prefix === "xmlns" || (prefix === "xml") !== (uri === NS_XML) || uri === NS_XMLNS) {
    throw new XmlError(`illegal namespace declaration ${attr}="${uri}"`, offset);
  }
  scope[prefix] = uri;
}

/** A QName with its colon at `colon` has a non-empty prefix and local part and no second colon. */
function checkQName(name: string, colon: number, offset: number): void {
  if (colon === 0 || colon === name.length - 1 || name.indexOf(":", colon + 1) >= 0) {
    throw new XmlError(`malformed qualified name ${name}`, offset);
  }
}

/** Skips `<!--…-->`; refuses DOCTYPE; returns -1 for a CDATA section (the caller reads it). */
function skipDeclaration(text: string, lt: number, cur: Element | undefined): number {
  if (text.startsWith("<!--", lt)) {
    const close = text.indexOf("--", lt + 4);
    if (close < 0) throw new XmlError("unterminated comment", lt);
    if (text.charCodeAt(close + 2) !== 62) throw new XmlError("'--' is not allowed inside a comment", close);
    checkChars(text, lt + 4, close);
    return close + 3;
  }
  if (text.startsWith("<![CDATA[", lt)) {
    if (!cur) throw new XmlError("CDATA section outside the root element", lt);
    return -1;
  }
  if (text.startsWith("<!DOCTYPE", lt)) throw new XmlError("DOCTYPE is not allowed", lt);
  throw new XmlError("unexpected '<!'", lt);
}

// XMLDecl (XML 1.0 §2.8, §4.3.3): version, optional encoding, optional standalone, in that order.
const XML_DECL =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>/y;

function skipProcessingInstruction(text: string, lt: number, docStart: number): number {
  const targetEnd = scanName(text, lt + 2);
  const target = text.slice(lt + 2, targetEnd);
  if (target.includes(":")) throw new XmlError(`malformed processing instruction target ${target}`, lt + 2);
  if (target.toLowerCase() === "xml") {
    if (target !== "xml" || lt !== docStart) {
      throw new XmlError("XML declaration allowed only at the start of the document", lt);
    }
    XML_DECL.lastIndex = lt;
    if (!XML_DECL.test(text)) throw new XmlError("malformed XML declaration", lt);
    return XML_DECL.lastIndex;
  }
  const close = text.indexOf("?>", targetEnd);
  if (close < 0) throw new XmlError("unterminated processing instruction", lt);
  if (close > targetEnd && !isBlankChar(text.charCodeAt(targetEnd))) {
    throw new XmlError("expected whitespace after processing instruction target", targetEnd);
  }
  checkChars(text, targetEnd, close);
  return close + 2;
}

/** End of the XML Name starting at i; throws when there is none. Non-ASCII is accepted as name characters. */
function scanName(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (!isNameStart(first)) {
    throw new XmlError(i >= text.length ? "unexpected end of input in a name" : "expected a name", i);
  }
  let j = i + 1;
  while (isNameChar(text.charCodeAt(j))) j++;
  return j;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 0xb7;
}

function isNameStart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7)
  );
}

function isBlankChar(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

function skipBlank(text: string, i: number): number {
  while (isBlankChar(text.charCodeAt(i))) i++;
  return i;
}

function isBlank(text: string, i: number, end: number): boolean {
  return skipBlank(text, i) >= end;
}
