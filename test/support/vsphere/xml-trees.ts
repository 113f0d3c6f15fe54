// Plain, comparable trees from our tokenizer and from saxes (the strict reference parser), for the
// cross-check, the fuzz test and the benchmark baseline.
import { SaxesParser } from "saxes";
import type { XmlElement } from "../../../src/vsphere/xml/parse.ts";
import { NS_XMLNS } from "../../../src/vsphere/xml/parse.ts";

export interface PlainElement {
  name: string;
  prefix: string;
  local: string;
  ns: string;
  /** qualified name → [namespace URI, value] */
  attrs: Record<string, [string, string]>;
  text: string;
  children: PlainElement[];
}

export function plainFromOurs(el: XmlElement): PlainElement {
  const attrs: Record<string, [string, string]> = {};
  for (const [qname, value] of Object.entries(el.attrs)) {
    const colon = qname.indexOf(":");
    let uri = "";
    if (qname === "xmlns") uri = NS_XMLNS;
    else if (colon > 0) uri = el.resolvePrefix(qname.slice(0, colon)) ?? "<unbound>";
    attrs[qname] = [uri, value];
  }
  return {
    name: el.name,
    prefix: el.prefix,
    local: el.local,
    ns: el.ns,
    attrs,
    text: el.text,
    children: el.children.map(plainFromOurs),
  };
}

/** Parses with saxes (xmlns: true). DOCTYPE is turned into an error, as our tokenizer refuses it. */
export function plainFromSaxes(xml: string): PlainElement {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: PlainElement[] = [];
  let root: PlainElement | undefined;
  parser.on("doctype", () => {
    throw new Error("DOCTYPE");
  });
  parser.on("opentag", (tag) => {
    const attrs: Record<string, [string, string]> = {};
    for (const a of Object.values(tag.attributes)) attrs[a.name] = [a.uri, a.value];
    const el: PlainElement = {
      name: tag.name,
      prefix: tag.prefix,
      local: tag.local,
      ns: tag.uri,
      attrs,
      text: "",
      children: [],
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on("closetag", (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  const onText = (t: string) => {
    const cur = stack[stack.length - 1];
    if (cur) cur.text += t;
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("error", (e) => {
    throw e;
  });
  parser.write(xml).close();
  if (!root) throw new Error("no root element");
  return root;
}
