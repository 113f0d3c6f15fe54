// Service entries: what one [[slp]] config entry advertises, precomputed once so a request
// costs matching and copying, not building. Attributes come from the built-in profile or a
// captured file (normalised), then per-key overrides.
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import type { SlpConfig } from "../config/types.ts";
import { type Attribute, foldString, parseAttrList, serializeAttrList } from "./attributes.ts";
import { applyOverrides, normaliseAttributes, parseCapturedAttributes } from "./normalise.ts";
import { type AttrIndex, indexAttributes } from "./predicate.ts";
import { lsiMsmProfile, VMWARE_INFRASTRUCTURE_TAGS, vmwareInfrastructureAttributes } from "./profile-lsi-msm.ts";
import { splitList, urlEntry } from "./wire/index.ts";

export interface ServiceEntry {
  /** The [[slp]] entry this came from. */
  name: string;
  url: string;
  /** Service type as written in the URL, e.g. "service:wbem:https". */
  serviceType: string;
  /** Lower-case concrete type for matching. */
  typeKey: string;
  /** Lower-case abstract type ("service:wbem"), when the type is abstract:concrete. */
  abstractKey?: string;
  /** Naming authority, lower case; "" for IANA. */
  namingAuthority: string;
  lifetime: number;
  /** Scopes, folded for comparison. */
  scopes: Set<string>;
  /** Scopes as configured, for SAAdverts. */
  scopeNames: string[];
  attributes: Attribute[];
  attrIndex: AttrIndex;
  /** Each attribute serialized (escaped), in order, for whole-attribute truncation. */
  attrWire: string[];
  /** The whole attribute list as UTF-8, for the common AttrRqst without a tag list. */
  attrListBytes: Uint8Array;
  /** The URL entry as it travels in a SrvRply. */
  urlEntryBytes: Uint8Array;
}

/** "service:wbem:https" from "service:wbem:https://host:5989"; "http" from "http://x". */
export function serviceTypeOf(url: string): string {
  const i = url.indexOf("://");
  return i < 0 ? url : url.slice(0, i);
}

export function makeEntry(name: string, url: string, lifetime: number, scopes: readonly string[], attributes: Attribute[]): ServiceEntry {
  const serviceType = serviceTypeOf(url);
  const typeKey = serviceType.toLowerCase();
  const parts = typeKey.split(":");
  const abstractKey = parts[0] === "service" && parts.length === 3 ? `${parts[0]}:${parts[1]}` : undefined;
  const typeName = parts[0] === "service" ? (parts[1] ?? "") : (parts[0] ?? "");
  const dot = typeName.lastIndexOf(".");
  return {
    name,
    url,
    serviceType,
    typeKey,
    abstractKey,
    namingAuthority: dot < 0 ? "" : typeName.slice(dot + 1),
    lifetime,
    scopes: new Set(scopes.map(foldString)),
    scopeNames: scopes.map((x) => x.trim()),
    attributes,
    attrIndex: indexAttributes(attributes),
    attrWire: attributes.map((a) => serializeAttrList([a])),
    attrListBytes: Buffer.from(serializeAttrList(attributes), "utf8"),
    urlEntryBytes: urlEntry.encode({ lifetime, url }),
  };
}

/** Does a request's service type (SrvRqst, AttrRqst by type) select this entry? */
export function typeMatches(requested: string, e: ServiceEntry): boolean {
  const t = requested.trim().toLowerCase();
  if (t === e.typeKey || t === e.abstractKey) return true;
  // OpenSLP also matches a bare "wbem" against service:wbem.
  if (!t.startsWith("service:") && e.typeKey.startsWith("service:")) {
    const s = `service:${t}`;
    return s === e.typeKey || s === e.abstractKey;
  }
  return false;
}

/** Does the request's scope list name one of the entry's scopes? */
export function scopeMatches(requestScopes: readonly string[], e: ServiceEntry): boolean {
  for (const s of requestScopes) if (e.scopes.has(s)) return true;
  return false;
}

/** A request's scope list, folded; `\HH` escapes are compared as written. */
export function requestScopes(scopeList: string): string[] {
  return splitList(scopeList).map(foldString);
}

/** The entries whose scopes a request's (folded) scope list names. */
export function entriesInScope(scopes: readonly string[], entries: readonly ServiceEntry[]): ServiceEntry[] {
  return entries.filter((e) => scopeMatches(scopes, e));
}

/** Each service type once, as first written, in entry order. */
export function distinctTypes(entries: readonly ServiceEntry[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (!seen.has(e.typeKey)) {
      seen.add(e.typeKey);
      out.push(e.serviceType);
    }
  }
  return out;
}

export interface EntryDeps {
  readFile?: (path: string) => string;
  /** Repairs made by the normaliser (logged by the service). */
  onChanges?: (changes: string[]) => void;
}

/** Builds the entries one [[slp]] config entry advertises. Throws ConfigError naming the problem. */
export function buildEntries(cfg: SlpConfig, deps: EntryDeps = {}): ServiceEntry[] {
  const readFile = deps.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const urls = cfg.urls.length > 0 ? cfg.urls : [`service:wbem:https://${cfg.host}:5989`];
  const scopes = cfg.scopes.length > 0 ? cfg.scopes : ["DEFAULT"];
  let fileAttrs: Attribute[] | undefined;
  if (cfg.attributes_file !== undefined) {
    let text: string;
    try {
      text = readFile(cfg.attributes_file);
    } catch (err) {
      throw new ConfigError(`cannot read attributes_file ${cfg.attributes_file}: ${(err as Error).message}`, cfg.attributes_file, undefined, "attributes_file");
    }
    try {
      fileAttrs = parseCapturedAttributes(text);
    } catch (err) {
      throw new ConfigError(`attributes_file: ${(err as Error).message}`, cfg.attributes_file, undefined, "attributes_file");
    }
  }
  // With vmware_infrastructure on, `product` and `hardwareUuid` overrides belong to that entry.
  const wbemOverrides: Record<string, string[]> = {};
  const vmwareOverrides: Record<string, string[]> = {};
  for (const [tag, values] of Object.entries(cfg.attributes)) {
    const vmware = cfg.vmware_infrastructure && VMWARE_INFRASTRUCTURE_TAGS.some((t) => foldString(t) === foldString(tag));
    (vmware ? vmwareOverrides : wbemOverrides)[tag] = values;
  }
  const entries: ServiceEntry[] = [];
  for (const url of urls) {
    let attrs: Attribute[] = [];
    if (cfg.profile === "lsi-msm") attrs = lsiMsmProfile(cfg.host, url);
    if (fileAttrs) attrs = fileAttrs;
    attrs = applyOverrides(attrs, wbemOverrides);
    const { attributes, changes } = normaliseAttributes(attrs);
    if (changes.length > 0) deps.onChanges?.(changes.map((c) => `${url}: ${c}`));
    // The result must survive a strict parse: that is what UAs on the wire will do.
    parseAttrList(serializeAttrList(attributes));
    entries.push(makeEntry(cfg.name, url, cfg.lifetime, scopes, attributes));
  }
  if (cfg.vmware_infrastructure) {
    const attributes = vmwareInfrastructureAttributes(cfg.host, vmwareOverrides);
    parseAttrList(serializeAttrList(attributes));
    entries.push(makeEntry(cfg.name, `service:VMwareInfrastructure://${cfg.host}`, cfg.lifetime, scopes, attributes));
  }
  return entries;
}
