// RAKP messages 1-4 (IPMI v2.0 sections 13.20-13.23).
import { IpmiDecodeError } from "../../errors.ts";
import { need, outBuffer, readU32LE, writeU32LE } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface Rakp1 {
  messageTag: number;
  managedSystemSessionId: number;
  /** 16 random bytes from the remote console (Rm). */
  consoleRandom: Uint8Array;
  /**
   * The whole role byte as sent: bits 3:0 requested maximum privilege, bit 4 set for
   * name-only lookup. It enters the RAKP HMACs as is.
   */
  role: number;
  /** 0..16 bytes. */
  username: Uint8Array;
}

export interface Rakp2 {
  messageTag: number;
  status: number;
  remoteConsoleSessionId: number;
  /** 16 random bytes from the BMC (Rc); absent when status is non-zero. */
  bmcRandom: Uint8Array;
  /** 16 bytes; absent when status is non-zero. */
  bmcGuid: Uint8Array;
  keyExchangeAuthCode: Uint8Array;
}

export interface Rakp3 {
  messageTag: number;
  status: number;
  managedSystemSessionId: number;
  keyExchangeAuthCode: Uint8Array;
}

export interface Rakp4 {
  messageTag: number;
  status: number;
  remoteConsoleSessionId: number;
  integrityCheckValue: Uint8Array;
}

export const ROLE_NAME_ONLY_LOOKUP = 0x10;

export const rakp1: Codec<Rakp1> = {
  encode(m, buf, offset = 0) {
    if (m.username.length > 16) throw new RangeError("RAKP1: user name longer than 16 bytes");
    const out = outBuffer(buf, offset, 28 + m.username.length, "RAKP1");
    out[offset] = m.messageTag;
    out.fill(0, offset + 1, offset + 4);
    writeU32LE(out, offset + 4, m.managedSystemSessionId);
    out.set(m.consoleRandom.subarray(0, 16), offset + 8);
    out[offset + 24] = m.role;
    out[offset + 25] = 0;
    out[offset + 26] = 0;
    out[offset + 27] = m.username.length;
    out.set(m.username, offset + 28);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 28, "RAKP1");
    const ulen = buf[offset + 27]!;
    if (ulen > 16) throw new IpmiDecodeError(`RAKP1: user name length ${ulen} exceeds 16`);
    need(buf, offset + 28, ulen, "RAKP1 user name");
    return {
      messageTag: buf[offset]!,
      managedSystemSessionId: readU32LE(buf, offset + 4),
      consoleRandom: buf.slice(offset + 8, offset + 24),
      role: buf[offset + 24]!,
      username: buf.slice(offset + 28, offset + 28 + ulen),
    };
  },
  encodingLength(m) {
    return 28 + m.username.length;
  },
};

export const rakp2: Codec<Rakp2> = {
  encode(m, buf, offset = 0) {
    const len = rakp2.encodingLength(m);
    const out = outBuffer(buf, offset, len, "RAKP2");
    out[offset] = m.messageTag;
    out[offset + 1] = m.status;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    writeU32LE(out, offset + 4, m.remoteConsoleSessionId);
    if (m.status === 0) {
      out.set(m.bmcRandom.subarray(0, 16), offset + 8);
      out.set(m.bmcGuid.subarray(0, 16), offset + 24);
      out.set(m.keyExchangeAuthCode, offset + 40);
    }
    return out;
  },
  /** Error replies may be cut short after the status byte. */
  decode(buf, offset = 0) {
    need(buf, offset, 2, "RAKP2");
    const status = buf[offset + 1]!;
    if (status === 0) need(buf, offset, 8, "RAKP2");
    const m: Rakp2 = {
      messageTag: buf[offset]!,
      status,
      remoteConsoleSessionId: buf.length - offset >= 8 ? readU32LE(buf, offset + 4) : 0,
      bmcRandom: new Uint8Array(0),
      bmcGuid: new Uint8Array(0),
      keyExchangeAuthCode: new Uint8Array(0),
    };
    if (status !== 0) return m;
    need(buf, offset, 40, "RAKP2");
    m.bmcRandom = buf.slice(offset + 8, offset + 24);
    m.bmcGuid = buf.slice(offset + 24, offset + 40);
    m.keyExchangeAuthCode = buf.slice(offset + 40);
    return m;
  },
  encodingLength(m) {
    return m.status === 0 ? 40 + m.keyExchangeAuthCode.length : 8;
  },
};

export const rakp3: Codec<Rakp3> = {
  encode(m, buf, offset = 0) {
    const out = outBuffer(buf, offset, 8 + m.keyExchangeAuthCode.length, "RAKP3");
    out[offset] = m.messageTag;
    out[offset + 1] = m.status;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    writeU32LE(out, offset + 4, m.managedSystemSessionId);
    out.set(m.keyExchangeAuthCode, offset + 8);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, 8, "RAKP3");
    return {
      messageTag: buf[offset]!,
      status: buf[offset + 1]!,
      managedSystemSessionId: readU32LE(buf, offset + 4),
      keyExchangeAuthCode: buf.slice(offset + 8),
    };
  },
  encodingLength(m) {
    return 8 + m.keyExchangeAuthCode.length;
  },
};

export const rakp4: Codec<Rakp4> = {
  encode(m, buf, offset = 0) {
    const out = outBuffer(buf, offset, 8 + m.integrityCheckValue.length, "RAKP4");
    out[offset] = m.messageTag;
    out[offset + 1] = m.status;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    writeU32LE(out, offset + 4, m.remoteConsoleSessionId);
    out.set(m.integrityCheckValue, offset + 8);
    return out;
  },
  /** Error replies may be cut short after the status byte. */
  decode(buf, offset = 0) {
    need(buf, offset, 2, "RAKP4");
    const status = buf[offset + 1]!;
    if (status === 0) need(buf, offset, 8, "RAKP4");
    return {
      messageTag: buf[offset]!,
      status,
      remoteConsoleSessionId: buf.length - offset >= 8 ? readU32LE(buf, offset + 4) : 0,
      integrityCheckValue: buf.slice(offset + 8),
    };
  },
  encodingLength(m) {
    return 8 + m.integrityCheckValue.length;
  },
};
