// A BMC's identity: Device ID fields, GUID and LAN MAC. All are derived deterministically
// from stable inputs (vCenter name, VM selector, BMC name), so they survive restarts with
// no state file, and two BMCs never share a GUID or MAC unless they describe the same VM.
import { createHash } from "node:crypto";
import pkg from "../../package.json" with { type: "json" };
import type { VmSelector } from "../config/types.ts";

export interface BmcIdentity {
  /** RFC 4122 text form, e.g. "6f1c…". */
  guidText: string;
  /** The GUID in IPMI wire order (least-significant byte first: RFC 4122 bytes reversed). */
  guid: Uint8Array;
  /** LAN parameter 5: six bytes. */
  mac: Uint8Array;
  deviceId: number;
  deviceRevision: number;
  /** Firmware major revision (7 bits) and minor revision (BCD). */
  firmwareMajor: number;
  firmwareMinorBcd: number;
  /** IANA enterprise number, 20 bits; 0 = unspecified (esxkit has none of its own). */
  manufacturerId: number;
  productId: number;
  /** Auxiliary firmware revision: esxkit major, minor, patch, 0. */
  auxFirmware: Uint8Array;
}

export interface IdentityInput {
  name: string;
  vcenter: string;
  vm: VmSelector;
  /** Configured MAC ("aa:bb:cc:dd:ee:ff" or with dashes); overrides the derived one. */
  mac?: string;
}

const DEVICE_ID = 0x20;
const PRODUCT_ID = 0x0001;

function digest(label: string, parts: string[]): Buffer {
  return createHash("sha256").update([label, ...parts].join("\0")).digest();
}

/** The MAC derived from the VM alone, so renaming the BMC keeps what vCenter DPM registered. */
export function derivedMac(vcenter: string, vm: VmSelector): Uint8Array {
  const h = digest("esxkit-bmc-mac", [vcenter, vm.by, vm.value]);
  // 02 = locally administered, unicast.
  return Uint8Array.from([0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!]);
}

export function parseMac(text: string): Uint8Array {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) throw new TypeError(`not a MAC address: "${text}" (expected six hex pairs separated by ":" or "-")`);
  return Uint8Array.from(m.slice(1).map((h) => Number.parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** RFC 4122 text ↔ IPMI wire order (IPMI v2.0 §20.8: bytes reversed). */
export function guidToWire(text: string): Uint8Array {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a GUID: "${text}"`);
  const rfc = Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  return rfc.reverse();
}

export function guidFromWire(wire: Uint8Array): string {
  const hex = [...wire].reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function derivedGuidText(input: IdentityInput): string {
  const h = digest("esxkit-bmc-guid", [input.vcenter, input.vm.by, input.vm.value, input.name]);
  const b = Uint8Array.from(h.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x50; // name-based (version 5 layout)
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  // ipmitool's `mc guid` guesses the encoding: read as RFC 4122 byte order, the wire bytes
  // put clock_seq_low's high nibble where the version goes, and a 1 there (with a timestamp
  // that falls in 1970..now) makes it pick "RFC4122", print a scrambled GUID and warn of an
  // IPMI specification violation. clock_seq_low is free in a name-based GUID: avoid the 1.
  if (b[9]! >> 4 === 1) b[9] = b[9]! ^ 0x80;
  return guidFromWire(b.reverse());
}

function versionParts(): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(pkg.version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

function toBcd(n: number): number {
  const v = Math.min(99, Math.max(0, n));
  return ((Math.floor(v / 10) & 0xf) << 4) | (v % 10);
}

export function createIdentity(input: IdentityInput): BmcIdentity {
  const guidText = derivedGuidText(input);
  const [major, minor, patch] = versionParts();
  return {
    guidText,
    guid: guidToWire(guidText),
    mac: input.mac ? parseMac(input.mac) : derivedMac(input.vcenter, input.vm),
    deviceId: DEVICE_ID,
    deviceRevision: 1,
    firmwareMajor: major & 0x7f,
    firmwareMinorBcd: toBcd(minor),
    manufacturerId: 0,
    productId: PRODUCT_ID,
    auxFirmware: Uint8Array.from([major & 0xff, minor & 0xff, patch & 0xff, 0]),
  };
}
