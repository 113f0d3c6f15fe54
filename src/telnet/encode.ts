// Telnet encoders (dns-packet style: encode / decode / encodingLength). Data and subnegotiation
// payloads double every 0xFF, since a lone 0xFF would start a command.
import { TelnetDecodeError } from "../errors.ts";
import { Command, VERB_CODE, type Verb, verbOf } from "./codes.ts";

const IAC = Command.IAC;

function countIac(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === IAC) n++;
  return n;
}

function writeEscaped(bytes: Uint8Array, out: Uint8Array, offset: number): number {
  let o = offset;
  for (const b of bytes) {
    out[o++] = b;
    if (b === IAC) out[o++] = IAC;
  }
  return o;
}

function target(buf: Uint8Array | undefined, offset: number, length: number): Uint8Array {
  if (!buf) return new Uint8Array(offset + length);
  if (offset + length > buf.length) throw new RangeError(`telnet encode: need ${length} bytes at offset ${offset}`);
  return buf;
}

/** Console bytes, IAC-escaped. */
export const data = {
  encode(bytes: Uint8Array, buf?: Uint8Array, offset = 0): Uint8Array {
    const out = target(buf, offset, data.encodingLength(bytes));
    writeEscaped(bytes, out, offset);
    return out;
  },
  encodingLength(bytes: Uint8Array): number {
    return bytes.length + countIac(bytes);
  },
};

export interface OptionCommand {
  verb: Verb;
  option: number;
}

/** IAC WILL|WONT|DO|DONT option. */
export const optionCommand = {
  encode(c: OptionCommand, buf?: Uint8Array, offset = 0): Uint8Array {
    const out = target(buf, offset, 3);
    out[offset] = IAC;
    out[offset + 1] = VERB_CODE[c.verb];
    out[offset + 2] = c.option;
    return out;
  },
  decode(buf: Uint8Array, offset = 0): OptionCommand {
    const verb = verbOf(buf[offset + 1] ?? -1);
    if (buf.length < offset + 3 || buf[offset] !== IAC || !verb) {
      throw new TelnetDecodeError("bad-option-command", `not an option command at offset ${offset}`);
    }
    return { verb, option: buf[offset + 2]! };
  },
  encodingLength(): number {
    return 3;
  },
};

export interface Subnegotiation {
  option: number;
  /** Unescaped payload. */
  payload: Uint8Array;
}

/** IAC SB option payload IAC SE. */
export const subnegotiation = {
  encode(s: Subnegotiation, buf?: Uint8Array, offset = 0): Uint8Array {
    const out = target(buf, offset, subnegotiation.encodingLength(s));
    out[offset] = IAC;
    out[offset + 1] = Command.SB;
    out[offset + 2] = s.option;
    const o = writeEscaped(s.payload, out, offset + 3);
    out[o] = IAC;
    out[o + 1] = Command.SE;
    return out;
  },
  decode(buf: Uint8Array, offset = 0): Subnegotiation {
    if (buf[offset] !== IAC || buf[offset + 1] !== Command.SB || buf.length < offset + 5) {
      throw new TelnetDecodeError("bad-subnegotiation", `no IAC SB at offset ${offset}`);
    }
    const option = buf[offset + 2]!;
    const payload: number[] = [];
    for (let i = offset + 3; i < buf.length; i++) {
      const b = buf[i]!;
      if (b !== IAC) {
        payload.push(b);
        continue;
      }
      const next = buf[i + 1];
      if (next === IAC) {
        payload.push(IAC);
        i++;
      } else if (next === Command.SE) {
        return { option, payload: Uint8Array.from(payload) };
      } else {
        throw new TelnetDecodeError("bad-subnegotiation", `IAC ${next ?? "end"} inside subnegotiation`);
      }
    }
    throw new TelnetDecodeError("bad-subnegotiation", "subnegotiation without IAC SE");
  },
  encodingLength(s: Subnegotiation): number {
    return 5 + s.payload.length + countIac(s.payload);
  },
};

/** IAC and a bare command (RFC 854: BRK, NOP, AYT, …), which carries no option. */
export const command = {
  encode(code: number, buf?: Uint8Array, offset = 0): Uint8Array {
    if (code <= Command.SE || code === Command.SB || verbOf(code) || code === IAC) {
      throw new RangeError(`telnet encode: ${code} is not a bare telnet command`);
    }
    const out = target(buf, offset, 2);
    out[offset] = IAC;
    out[offset + 1] = code;
    return out;
  },
  encodingLength(): number {
    return 2;
  },
};
