// SLPv2 error codes (RFC 2608 §7). Errors are sent only in reply to unicast requests.
export const SlpErrorCode = {
  OK: 0,
  LANGUAGE_NOT_SUPPORTED: 1,
  PARSE_ERROR: 2,
  INVALID_REGISTRATION: 3,
  SCOPE_NOT_SUPPORTED: 4,
  AUTHENTICATION_UNKNOWN: 5,
  AUTHENTICATION_ABSENT: 6,
  AUTHENTICATION_FAILED: 7,
  VER_NOT_SUPPORTED: 9,
  INTERNAL_ERROR: 10,
  DA_BUSY_NOW: 11,
  OPTION_NOT_UNDERSTOOD: 12,
  INVALID_UPDATE: 13,
  MSG_NOT_SUPPORTED: 14,
  REFRESH_REJECTED: 15,
} as const;

export type SlpErrorCodeName = keyof typeof SlpErrorCode;

const NAMES = new Map<number, SlpErrorCodeName>(Object.entries(SlpErrorCode).map(([k, v]) => [v, k as SlpErrorCodeName]));

export function errorCodeName(code: number): string {
  return NAMES.get(code) ?? `error ${code}`;
}
