// IPMI 1.5 session authentication types (the session header's first byte) and the RMCP+ format.
export const AuthType = {
  none: 0x00,
  md2: 0x01,
  md5: 0x02,
  straightPassword: 0x04,
  oem: 0x05,
  /** Not an IPMI 1.5 auth type: marks an RMCP+ (IPMI v2.0) session header. */
  rmcpPlus: 0x06,
} as const;

/** RMCP+ payload types (the session header's second byte, bits 5:0). */
export const PayloadType = {
  ipmi: 0x00,
  sol: 0x01,
  oemExplicit: 0x02,
  openSessionRequest: 0x10,
  openSessionResponse: 0x11,
  rakp1: 0x12,
  rakp2: 0x13,
  rakp3: 0x14,
  rakp4: 0x15,
} as const;
