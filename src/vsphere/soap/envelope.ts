// Request envelopes for vim25. The method element carries xmlns="urn:vim25", so unprefixed xsi:type
// values (VirtualMachineConfigSpec, …) resolve to vim25 types, as govmomi writes them.
import { SoapEncodeError } from "../../errors.ts";
import { escapeAttr, escapeText } from "../xml/escape.ts";
import type { MoRef, SoapObject, SoapValue } from "./types.ts";
import { NS_SOAPENV, NS_VIM25, NS_XSD, NS_XSI } from "./types.ts";

const HEAD =
  `<?xml version="1.0" encoding="UTF-8"?>` +
  `<soapenv:Envelope xmlns:soapenv="${NS_SOAPENV}" xmlns:xsd="${NS_XSD}" xmlns:xsi="${NS_XSI}">` +
  `<soapenv:Body>`;
const TAIL = `</soapenv:Body></soapenv:Envelope>`;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const TYPE_NAME = /^(?:[A-Za-z_][A-Za-z0-9_.-]*:)?[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A full soapenv envelope calling `method` on `thisRef`; args in the order the WSDL declares them. */
export function buildRequest(method: string, thisRef: MoRef, args: Array<[string, SoapValue]> = []): string {
  checkName(method, NAME, "method name");
  let body = `<${method} xmlns="${NS_VIM25}">` + encodeMoRef("_this", thisRef, undefined);
  for (const [name, value] of args) body += encodeField(name, value);
  return HEAD + body + `</${method}>` + TAIL;
}

/** One field as XML: repeated elements for arrays, nothing for null/undefined. */
export function encodeField(name: string, value: SoapValue): string {
  if (value === undefined || value === null) return "";
  checkName(name, NAME, "element name");
  if (Array.isArray(value)) {
    let out = "";
    for (const item of value) {
      if (Array.isArray(item)) throw new SoapEncodeError(`${name}: nested arrays cannot be encoded`);
      out += encodeField(name, item);
    }
    return out;
  }
  switch (typeof value) {
    case "string":
      return `<${name}>${escapeText(value)}</${name}>`;
    case "boolean":
      return `<${name}>${value ? "true" : "false"}</${name}>`;
    case "number":
      if (!Number.isFinite(value)) throw new SoapEncodeError(`${name}: ${value} is not a finite number`);
      return `<${name}>${value}</${name}>`;
    case "object":
      return encodeObject(name, value as SoapObject);
    default:
      throw new SoapEncodeError(`${name}: cannot encode a ${typeof value}`);
  }
}

function encodeObject(name: string, obj: SoapObject): string {
  const type = obj.$type;
  if (type !== undefined) checkName(type, TYPE_NAME, "xsi:type");
  if (isMoRefShape(obj)) return encodeMoRef(name, obj, type);
  const typeAttr = type === undefined ? "" : ` xsi:type="${type}"`;
  if (type !== undefined && "$value" in obj) {
    const leaf = obj.$value;
    if (leaf !== null && typeof leaf === "object") throw new SoapEncodeError(`${name}: $value must be a primitive`);
    if (typeof leaf === "number" && !Number.isFinite(leaf)) throw new SoapEncodeError(`${name}: ${leaf} is not finite`);
    return `<${name}${typeAttr}>${leaf === undefined || leaf === null ? "" : escapeText(String(leaf))}</${name}>`;
  }
  let inner = "";
  for (const key in obj) {
    if (key === "$type") continue;
    inner += encodeField(key, obj[key]);
  }
  return `<${name}${typeAttr}>${inner}</${name}>`;
}

function encodeMoRef(name: string, ref: MoRef, xsiType: string | undefined): string {
  if (typeof ref?.type !== "string" || typeof ref.value !== "string" || ref.type === "") {
    throw new SoapEncodeError(`${name}: not a managed object reference`);
  }
  const typeAttr = xsiType === undefined ? "" : ` xsi:type="${xsiType}"`;
  return `<${name}${typeAttr} type="${escapeAttr(ref.type)}">${escapeText(ref.value)}</${name}>`;
}

/** {type, value} strings and nothing else (besides an optional $type of ManagedObjectReference). */
function isMoRefShape(obj: SoapObject): obj is SoapObject & MoRef {
  if (typeof obj.type !== "string" || typeof obj.value !== "string") return false;
  for (const key in obj) {
    if (key === "$type") {
      if (obj.$type !== "ManagedObjectReference") return false;
    } else if (key !== "type" && key !== "value") return false;
  }
  return true;
}

function checkName(name: string, pattern: RegExp, what: string): void {
  if (!pattern.test(name)) throw new SoapEncodeError(`invalid ${what} ${JSON.stringify(name)}`);
}
