// Serial-over-LAN code tables (IPMI v2.0 section 15, 24 and 26): packet flags, the
// payload commands' completion codes and the SOL configuration parameters.

/** Status bits of a BMC → remote console SOL packet (table 15-2, byte 4). */
export const SolBmcStatus = {
  nack: 0x40,
  /** Character transfer is unavailable (the system serial port is gone or busy). */
  transferUnavailable: 0x20,
  /** SOL is deactivating / inactive. */
  inactive: 0x10,
  /** Characters were dropped because the BMC's buffer overflowed. */
  transmitOverrun: 0x08,
  breakDetected: 0x04,
} as const;

/** Operation bits of a remote console → BMC SOL packet (table 15-2, byte 4). */
export const SolConsoleOp = {
  nack: 0x40,
  ringWor: 0x20,
  generateBreak: 0x10,
  deassertCts: 0x08,
  deassertDcdDsr: 0x04,
  flushInbound: 0x02,
  flushOutbound: 0x01,
} as const;

/** Highest SOL packet sequence number; 0 marks an ACK-only packet. */
export const SOL_MAX_SEQUENCE = 15;
/** Bytes of the SOL packet header: sequence, ack/nack sequence, accepted count, flags. */
export const SOL_HEADER_LENGTH = 4;

/** Activate Payload (06:48) completion codes. */
export const ActivatePayloadCode = {
  alreadyActive: 0x80,
  typeDisabled: 0x81,
  activationLimit: 0x82,
  cannotWithEncryption: 0x83,
  cannotWithoutEncryption: 0x84,
} as const;

/** Deactivate Payload (06:49) completion codes. */
export const DeactivatePayloadCode = {
  alreadyDeactivated: 0x80,
  typeDisabled: 0x81,
} as const;

/** Get Channel Payload Version (06:4F): the payload type is not available on this channel. */
export const PAYLOAD_NOT_AVAILABLE = 0x80;

/** Set/Get SOL Configuration Parameters (0C:21/22) completion codes. */
export const SolConfigCode = {
  parameterNotSupported: 0x80,
  setInProgress: 0x81,
  readOnly: 0x82,
  writeOnly: 0x83,
} as const;

/** SOL configuration parameter selectors (table 26-5). */
export const SolParam = {
  setInProgress: 0,
  enable: 1,
  authentication: 2,
  characterAccumulate: 3,
  retry: 4,
  nonVolatileBitRate: 5,
  volatileBitRate: 6,
  payloadChannel: 7,
  payloadPort: 8,
} as const;

/** Parameter revision reported by Get SOL Configuration Parameters: 1.1, compatible with 1.1. */
export const SOL_PARAM_REVISION = 0x11;

/** Bit-rate codes of parameters 5/6; 0 = use the setting of the IPMI serial channel. */
export const SOL_BIT_RATES: Record<number, number> = {
  0x00: 0,
  0x06: 9600,
  0x07: 19200,
  0x08: 38400,
  0x09: 57600,
  0x0a: 115200,
};

/** The SOL payload's format version (Get Channel Payload Version): 1.0, BCD. */
export const SOL_PAYLOAD_VERSION = 0x10;
