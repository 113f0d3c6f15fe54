// Certificate thumbprints as users write them (govc style): the hex SHA-1 or SHA-256 digest of the
// DER certificate, any case, colons between the pairs optional. One normal form everywhere: upper
// case with colons. vsphere compares pins in this form; the config and CLI flags store it.

/** What the config schema and the CLI flags accept: 20 or 32 hex pairs, colons allowed between pairs. */
export const THUMBPRINT_PATTERN = /^([0-9A-Fa-f]{2}:?){19}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;

/**
 * Normalise a user-written thumbprint: strip colons/spaces, upper-case, check that it is
 * 40 (SHA-1) or 64 (SHA-256) hex digits. Returns colon form, or undefined if malformed.
 */
export function normalizeThumbprint(input: string): string | undefined {
  const hex = input.replace(/[:\s]/g, "").toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) return undefined;
  return hex.replace(/(..)(?!$)/g, "$1:");
}
