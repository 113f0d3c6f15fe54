// RMCP+ algorithms and the standard cipher suites built from them (IPMI v2.0 table 22-20).

export const AuthAlg = { none: 0x00, hmacSha1: 0x01, hmacMd5: 0x02, hmacSha256: 0x03 } as const;
export const IntegrityAlg = { none: 0x00, hmacSha1_96: 0x01, hmacMd5_128: 0x02, md5_128: 0x03, hmacSha256_128: 0x04 } as const;
export const ConfAlg = { none: 0x00, aesCbc128: 0x01, xrc4_128: 0x02, xrc4_40: 0x03 } as const;

export interface CipherSuite {
  id: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

/** The suites this implementation can run (SHA1/SHA256 families, AES-CBC-128). */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  { id: 0, auth: AuthAlg.none, integrity: IntegrityAlg.none, confidentiality: ConfAlg.none },
  { id: 1, auth: AuthAlg.hmacSha1, integrity: IntegrityAlg.none, confidentiality: ConfAlg.none },
  { id: 2, auth: AuthAlg.hmacSha1, integrity: IntegrityAlg.hmacSha1_96, confidentiality: ConfAlg.none },
  { id: 3, auth: AuthAlg.hmacSha1, integrity: IntegrityAlg.hmacSha1_96, confidentiality: ConfAlg.aesCbc128 },
  { id: 15, auth: AuthAlg.hmacSha256, integrity: IntegrityAlg.none, confidentiality: ConfAlg.none },
  { id: 16, auth: AuthAlg.hmacSha256, integrity: IntegrityAlg.hmacSha256_128, confidentiality: ConfAlg.none },
  { id: 17, auth: AuthAlg.hmacSha256, integrity: IntegrityAlg.hmacSha256_128, confidentiality: ConfAlg.aesCbc128 },
];

export function cipherSuiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.id === id);
}
