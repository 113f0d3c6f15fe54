// The built-in `lsi-msm` profile: the DMTF DSP0206 WBEM service template that a healthy
// ESXi host's sfcb advertises, extended with the LSI MegaRAID provider's namespace and
// profiles, so MegaRAID Storage Manager / LSI Storage Authority list the host.
//
// Sources: the attribute order and the CIM_ObjectManager / CommunicationMechanism values
// follow sblim-sfcb (cimslpSLP.c registerCIMService, interopServerProvider.c); the namespace
// list follows an ESXi 6.5 reply; `lsi/lsimr13` is the LSI provider's namespace on ESXi.
// The exact LSI profile strings MSM keys on are not public: every value here can be
// replaced per key with `attributes` in the config, or by a file captured from a healthy host.
import { createHash } from "node:crypto";
import type { Attribute } from "./attributes.ts";

/** Namespaces an ESXi host with the LSI provider enumerates (CIM_Namespace.Name). */
export const LSI_MSM_NAMESPACES = ["root/interop", "interop", "root/cimv2", "root/config", "vmware/esxv2", "lsi/lsimr13"];

/**
 * CIM_RegisteredProfile entries advertised through SLP (Org:Name[:Subprofile]). Kept short
 * enough that the whole AttrRply fits one 1400-byte datagram even for a long host name.
 */
export const LSI_MSM_PROFILES = [
  "DMTF:Profile Registration",
  "DMTF:Base Server",
  "DMTF:Sensors",
  "DMTF:Record Log",
  "DMTF:Physical Asset",
  "DMTF:Software Inventory",
  "DMTF:Battery",
  "SNIA:Server",
  "SNIA:Host Hardware RAID Controller",
  "SNIA:Host Hardware RAID Controller:Physical Package",
  "SNIA:Host Hardware RAID Controller:Disk Drive Lite",
];

const FUNCTIONAL_PROFILES = ["Basic Read", "Basic Write", "Instance Manipulation", "Association Traversal", "Query Execution", "Indications"];

/** A UUID-shaped id derived from the host name (and a purpose), stable across restarts. */
function stableUuid(host: string, purpose = ""): string {
  const h = createHash("sha1").update(`esxkit-slp:${purpose}${host.toLowerCase()}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** `https://host:5989` from `service:wbem:https://host:5989` (the sfcb template-url-syntax). */
export function urlSyntaxOf(url: string): string {
  return url.replace(/^service:wbem:/i, "");
}

export function lsiMsmProfile(host: string, url: string): Attribute[] {
  const a = (tag: string, ...values: string[]): Attribute => ({ tag, values });
  return [
    a("template-type", "wbem"),
    a("template-version", "1.0"),
    a("template-description", "This template describes the attributes used for advertising WBEM Servers."),
    a("template-url-syntax", urlSyntaxOf(url)),
    a("service-hi-name", "sfcb"),
    a("service-hi-description", "Small Footprint CIM Broker"),
    a("service-id", `sfcb:${stableUuid(host)}`),
    a("CommunicationMechanism", "cim-xml"),
    a("InteropSchemaNamespace", "root/interop"),
    a("ProtocolVersion", "1.0"),
    a("FunctionalProfilesSupported", ...FUNCTIONAL_PROFILES),
    a("FunctionalProfileDescriptions", ...FUNCTIONAL_PROFILES),
    a("MultipleOperationsSupported", "false"),
    a("AuthenticationMechanismsSupported", "Basic"),
    a("AuthenticationMechansimDescriptions", "Basic"),
    a("Namespace", ...LSI_MSM_NAMESPACES),
    a("Classinfo", ...LSI_MSM_NAMESPACES.map(() => "0")),
    a("RegisteredProfilesSupported", ...LSI_MSM_PROFILES),
  ];
}

/** The tags of the service:VMwareInfrastructure entry: `attributes` overrides with these names go there, not to service:wbem. */
export const VMWARE_INFRASTRUCTURE_TAGS = ["product", "hardwareUuid"];

/** hostd writes these values inside double quotes; so do we, whether or not the config did. */
function quoted(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v : `"${v}"`;
}

/**
 * What ESXi registers beside service:wbem: `service:VMwareInfrastructure://<fqdn>` with
 * `(product="VMware ESXi 6.5.0 build-17097218"),(hardwareUuid="30313436-…")`. The defaults
 * cannot know the real host: the product names no version (version scanners then do not take
 * the spoof for a vulnerable build) and the UUID is derived from the host name, stable but not
 * the server's SMBIOS UUID. `overrides` (tag → values, an empty list removes the tag) replace them.
 */
export function vmwareInfrastructureAttributes(host: string, overrides: Readonly<Record<string, readonly string[]>> = {}): Attribute[] {
  const values = new Map<string, string[]>([
    ["product", ["VMware ESXi"]],
    ["hardwareUuid", [stableUuid(host, "hardware:").toUpperCase()]],
  ]);
  for (const [tag, v] of Object.entries(overrides)) {
    const known = VMWARE_INFRASTRUCTURE_TAGS.find((t) => t.toLowerCase() === tag.trim().toLowerCase());
    if (known) values.set(known, [...v]);
  }
  return [...values].filter(([, v]) => v.length > 0).map(([tag, v]) => ({ tag, values: v.map(quoted) }));
}
