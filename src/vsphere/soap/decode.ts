// The vim25 decoder: turns the element tree of a SOAP response into plain values, driven by xsi:type.
// xsi:type is found through namespace resolution (vCenter writes `xsi:type`, govmomi's simulator
// `XMLSchema-instance:type`), never by comparing prefixes.
import { SoapFaultError, SoapProtocolError } from "../../errors.ts";
import type { XmlElement } from "../xml/parse.ts";
import { parseXml } from "../xml/parse.ts";
import type { MoRef } from "./types.ts";
import { NS_SOAPENV, NS_XSI } from "./types.ts";

const NUMBER_TYPES = new Set([
  "int", "long", "short", "byte", "double", "float", "decimal", "integer",
  "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
  "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
]); // prettier-ignore
const STRING_TYPES = new Set(["string", "dateTime", "date", "time", "anyURI", "base64Binary", "hexBinary", "token"]);

/** The returnval(s) of the body's *Response element: undefined if none, an array if several. Faults throw. */
export function decodeResponse(xml: string): unknown {
  const response = bodyChild(parseXml(xml));
  if (response.local === "Fault" && response.ns === NS_SOAPENV) throw faultFromElement(response);
  const values: unknown[] = [];
  for (const child of response.children) if (child.local === "returnval") values.push(decodeValue(child));
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/** Decodes one element by the vim25 rules (see the module comment and test/vsphere/soap-decode.test.ts). */
export function decodeValue(el: XmlElement): unknown {
  return decodeTyped(el, xsiTypeOf(el));
}

function decodeTyped(el: XmlElement, type: string | undefined): unknown {
  if (type !== undefined) {
    if (type.startsWith("ArrayOf")) return decodeArray(el, type.slice(7));
    if (type === "ManagedObjectReference") return moRefOf(el);
    const leaf = decodePrimitive(el, type);
    if (leaf !== undefined) return leaf;
  }
  const children = el.children;
  if (children.length === 0) {
    if (el.attrs.type !== undefined) return moRefOf(el);
    // A typed leaf with text is an enum value (VirtualMachinePowerState …); without text, an empty data object.
    if (type === undefined || el.text !== "") return el.text;
    return { $type: type };
  }
  const obj: Record<string, unknown> = type === undefined ? {} : { $type: type };
  let repeated: Set<string> | undefined;
  for (const child of children) {
    const key = child.local;
    const value = decodeValue(child);
    if (!Object.hasOwn(obj, key)) {
      if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true });
      else obj[key] = value;
    } else if (repeated?.has(key)) {
      (obj[key] as unknown[]).push(value);
    } else {
      (repeated ??= new Set()).add(key);
      obj[key] = [obj[key], value];
    }
  }
  return obj;
}

/** ArrayOfX: every child is an item of type X unless it carries its own xsi:type; always an array. */
function decodeArray(el: XmlElement, itemType: string): unknown[] {
  // ArrayOfInt → xsd "int"; ArrayOfVirtualDevice → data object type "VirtualDevice"
  const primitive = itemType.charAt(0).toLowerCase() + itemType.slice(1);
  const isPrimitive = NUMBER_TYPES.has(primitive) || primitive === "boolean" || STRING_TYPES.has(primitive);
  const out: unknown[] = [];
  for (const child of el.children) {
    const own = xsiTypeOf(child);
    if (own !== undefined) out.push(decodeTyped(child, own));
    else if (isPrimitive) out.push(decodePrimitive(child, primitive));
    else if (itemType === "ManagedObjectReference") out.push(moRefOf(child));
    else out.push(decodeTyped(child, itemType === "AnyType" ? undefined : itemType));
  }
  return out;
}

function decodePrimitive(el: XmlElement, type: string): string | number | boolean | undefined {
  if (NUMBER_TYPES.has(type)) {
    const s = el.text.trim();
    const n = Number(s);
    return s === "" || Number.isNaN(n) ? el.text : n;
  }
  if (type === "boolean") {
    const s = el.text.trim();
    return s === "true" || s === "1" ? true : s === "false" || s === "0" ? false : el.text;
  }
  if (STRING_TYPES.has(type)) return el.text;
  return undefined;
}

function moRefOf(el: XmlElement): MoRef {
  return { type: el.attrs.type ?? "", value: el.text.trim() };
}

/** The local name of the element's xsi:type, resolved through its namespace declarations. */
export function xsiTypeOf(el: XmlElement): string | undefined {
  for (const attr in el.attrs) {
    if (!attr.endsWith(":type") || el.resolvePrefix(attr.slice(0, -5)) !== NS_XSI) continue;
    const qname = el.attrs[attr] as string;
    return qname.slice(qname.indexOf(":") + 1);
  }
  return undefined;
}

/** HTTP 500 body → SoapFaultError. A body without a Fault gives faultType "UnknownFault". */
export function faultFromResponse(xml: string): SoapFaultError {
  const child = bodyChild(parseXml(xml));
  if (child.local !== "Fault" || child.ns !== NS_SOAPENV) {
    return new SoapFaultError("UnknownFault", `expected a SOAP fault, got <${child.name}>`);
  }
  return faultFromElement(child);
}

function faultFromElement(fault: XmlElement): SoapFaultError {
  let faultCode = "";
  let faultString = "";
  let detail: XmlElement | undefined;
  for (const c of fault.children) {
    if (c.local === "faultcode") faultCode = c.text.trim();
    else if (c.local === "faultstring") faultString = c.text;
    else if (c.local === "detail") detail = c.children[0];
  }
  if (!detail) return new SoapFaultError(faultCode.slice(faultCode.indexOf(":") + 1) || "UnknownFault", faultString);
  // Real vCenter names the element <XxxFault xsi:type="Xxx">; without xsi:type the name minus "Fault" is the type.
  const faultType =
    xsiTypeOf(detail) ??
    (detail.local.endsWith("Fault") && detail.local !== "Fault" ? detail.local.slice(0, -5) : detail.local);
  const decoded = decodeValue(detail);
  const fields = decoded !== null && typeof decoded === "object" && !Array.isArray(decoded) ? decoded : {};
  return new SoapFaultError(faultType, faultString, { $type: faultType, ...fields });
}

function bodyChild(envelope: XmlElement): XmlElement {
  if (envelope.local !== "Envelope" || envelope.ns !== NS_SOAPENV) {
    throw new SoapProtocolError(`expected a soapenv:Envelope, got <${envelope.name}>`);
  }
  const body = envelope.children.find((c) => c.local === "Body" && c.ns === NS_SOAPENV);
  const first = body?.children[0];
  if (!first) throw new SoapProtocolError("SOAP envelope without a body element");
  return first;
}

export function isMoRef(v: unknown): v is MoRef {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.type === "string" && typeof o.value === "string" && Object.keys(o).length === 2;
}

export function asArray<T>(v: T | T[] | undefined | null): T[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
