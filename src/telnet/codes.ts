// Telnet command and option codes (RFC 854, RFC 856 BINARY, RFC 858 SGA, VMware's 232).

export const Command = {
  SE: 240,
  NOP: 241,
  DM: 242,
  BRK: 243,
  IP: 244,
  AO: 245,
  AYT: 246,
  EC: 247,
  EL: 248,
  GA: 249,
  SB: 250,
  WILL: 251,
  WONT: 252,
  DO: 253,
  DONT: 254,
  IAC: 255,
} as const;

export const Option = {
  BINARY: 0,
  ECHO: 1,
  SGA: 3,
  /** VMware's telnet extension for serial-port proxies (VMWARE-TELNET-EXT). */
  VMWARE: 232,
} as const;

export type Verb = "WILL" | "WONT" | "DO" | "DONT";

export const VERB_CODE: Record<Verb, number> = { WILL: 251, WONT: 252, DO: 253, DONT: 254 };

export function verbOf(code: number): Verb | undefined {
  switch (code) {
    case 251:
      return "WILL";
    case 252:
      return "WONT";
    case 253:
      return "DO";
    case 254:
      return "DONT";
    default:
      return undefined;
  }
}
