// The 16 bytes of IPMI Get System GUID (and RAKP2's managed-system GUID) as a uuid string.
// The spec asks for the SMBIOS UUID, but vendors disagree on the byte order: some send it in
// RFC 4122 (network) order, some in SMBIOS order (the first three fields little-endian, as
// SMBIOS 2.6+ stores them), and some fully reversed (IPMI's "least significant byte first").
// A GUID matches a uuid when any one of these readings equals it.

export type GuidOrder = "rfc4122" | "smbios" | "reversed";

export const GUID_ORDERS: readonly GuidOrder[] = ["rfc4122", "smbios", "reversed"];

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function format(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Reorders 16 GUID bytes into RFC 4122 order, assuming the BMC sent them in `order`. */
export function toRfcBytes(bytes: Uint8Array, order: GuidOrder): Uint8Array {
  if (bytes.length !== 16) throw new RangeError(`a GUID has 16 bytes, got ${bytes.length}`);
  if (order === "rfc4122") return bytes.slice();
  if (order === "reversed") return bytes.slice().reverse();
  const b = bytes.slice();
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/** The uuid string the BMC's bytes stand for, read in `order`. */
export function guidString(bytes: Uint8Array, order: GuidOrder = "rfc4122"): string {
  return format(hex(toRfcBytes(bytes, order)));
}

/** "4C4C4544-0042…" or "4c4c454400 42…" → canonical lower-case with dashes; undefined if not a uuid. */
export function normalizeUuid(s: string): string | undefined {
  const h = s.trim().toLowerCase().replace(/[-{}\s]/g, "");
  return /^[0-9a-f]{32}$/.test(h) ? format(h) : undefined;
}

/** The byte order in which `bytes` read as `uuid`, or undefined when none does. */
export function matchGuid(bytes: Uint8Array, uuid: string): GuidOrder | undefined {
  const want = normalizeUuid(uuid);
  if (!want || bytes.length !== 16) return undefined;
  return GUID_ORDERS.find((o) => guidString(bytes, o) === want);
}

/** A GUID of all zeros or all ones identifies nothing (BMCs that were never provisioned send them). */
export function isBlankGuid(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0) || bytes.every((b) => b === 0xff);
}
