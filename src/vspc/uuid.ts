// Hosts send UUIDs in VMX form ("50 1e 2f 3a 4b 5c 6d 7e-8f 90 a1 b2 c3 d4 e5 f6"); vSphere's
// config.instanceUuid / config.uuid use the 8-4-4-4-12 form. The identity keeps what the host
// sent; this gives the form to compare with.
export function canonicalUuid(raw: string): string | undefined {
  const hex = raw.replace(/[\s-]/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
