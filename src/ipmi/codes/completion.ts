// IPMI completion codes (IPMI v2.0 table 5-2) and the command-specific ones the engine uses.
export const CompletionCode = {
  ok: 0x00,
  nodeBusy: 0xc0,
  invalidCommand: 0xc1,
  invalidCommandForLun: 0xc2,
  timeout: 0xc3,
  outOfSpace: 0xc4,
  reservationCanceled: 0xc5,
  requestDataTruncated: 0xc6,
  requestDataLengthInvalid: 0xc7,
  requestDataFieldLengthExceeded: 0xc8,
  parameterOutOfRange: 0xc9,
  cannotReturnRequestedBytes: 0xca,
  notPresent: 0xcb,
  invalidDataField: 0xcc,
  illegalCommandForSensor: 0xcd,
  responseNotProvided: 0xce,
  duplicateRequest: 0xcf,
  sdrUpdateMode: 0xd0,
  firmwareUpdateMode: 0xd1,
  initInProgress: 0xd2,
  destinationUnavailable: 0xd3,
  insufficientPrivilege: 0xd4,
  notSupportedInPresentState: 0xd5,
  subFunctionDisabled: 0xd6,
  unspecified: 0xff,
} as const;

/** Command-specific codes of the session commands (IPMI v2.0 section 22). */
export const SessionCompletionCode = {
  /** Get Session Challenge: invalid user name. */
  invalidUserName: 0x81,
  /** Get Session Challenge: null user name not enabled. */
  nullUserNotEnabled: 0x82,
  /** Activate Session: no session slot available. */
  noSessionSlot: 0x81,
  /** Activate Session: no slot available for the given user. */
  noSlotForUser: 0x82,
  /** Activate Session: requested privilege exceeds the user's or channel's limit. */
  privilegeExceedsLimit: 0x86,
  /** Set Session Privilege Level: requested level not available for this user. */
  levelNotAvailable: 0x80,
  /** Set Session Privilege Level: requested level exceeds the channel/user limit. */
  levelExceedsLimit: 0x81,
  /** Close Session: invalid session id in request. */
  invalidSessionId: 0x87,
} as const;

const NAMES: Record<number, string> = {
  0x00: "success",
  0xc0: "node busy",
  0xc1: "invalid command",
  0xc2: "invalid command for LUN",
  0xc3: "timeout while processing command",
  0xc4: "out of space",
  0xc5: "reservation canceled or invalid",
  0xc6: "request data truncated",
  0xc7: "request data length invalid",
  0xc8: "request data field length limit exceeded",
  0xc9: "parameter out of range",
  0xca: "cannot return number of requested data bytes",
  0xcb: "requested sensor, data, or record not present",
  0xcc: "invalid data field in request",
  0xcd: "command illegal for specified sensor or record type",
  0xce: "command response could not be provided",
  0xcf: "cannot execute duplicated request",
  0xd0: "SDR repository in update mode",
  0xd1: "device in firmware update mode",
  0xd2: "BMC initialization in progress",
  0xd3: "destination unavailable",
  0xd4: "insufficient privilege level",
  0xd5: "command not supported in present state",
  0xd6: "command sub-function disabled or unavailable",
  0xff: "unspecified error",
};

export function completionCodeName(cc: number): string {
  return NAMES[cc] ?? `completion code 0x${cc.toString(16).padStart(2, "0")}`;
}
