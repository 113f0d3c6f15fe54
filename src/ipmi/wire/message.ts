// The IPMB-style IPMI message carried in a LAN session (IPMI v2.0 section 13.8):
//   request:  rsAddr, netFn/rsLUN, chk1, rqAddr, rqSeq/rqLUN, cmd, data…, chk2
//   response: rqAddr, netFn/rqLUN, chk1, rsAddr, rqSeq/rsLUN, cmd, cc, data…, chk2
import { IpmiDecodeError } from "../../errors.ts";
import { need, outBuffer } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const BMC_SLAVE_ADDRESS = 0x20;
/** Software ID of a remote console (IPMI v2.0 section 5.5). */
export const REMOTE_CONSOLE_SWID = 0x81;

export interface IpmiRequestMessage {
  rsAddr: number;
  netFn: number;
  rsLun: number;
  rqAddr: number;
  /** 6 bits. */
  rqSeq: number;
  rqLun: number;
  cmd: number;
  data: Uint8Array;
}

export interface IpmiResponseMessage {
  rqAddr: number;
  /** The response netFn (request netFn | 1). */
  netFn: number;
  rqLun: number;
  rsAddr: number;
  rqSeq: number;
  rsLun: number;
  cmd: number;
  cc: number;
  data: Uint8Array;
}

/** Two's-complement checksum: the bytes plus the checksum sum to 0 mod 256. */
export function checksum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + buf[i]!) & 0xff;
  return (0x100 - sum) & 0xff;
}

interface Frame {
  a1: number;
  netFn: number;
  lun1: number;
  a2: number;
  seq: number;
  lun2: number;
  cmd: number;
  body: Uint8Array;
}

function encodeFrame(f: Frame, body: Uint8Array, buf: Uint8Array | undefined, offset: number, what: string): Uint8Array {
  const out = outBuffer(buf, offset, 7 + body.length, what);
  out[offset] = f.a1;
  out[offset + 1] = ((f.netFn & 0x3f) << 2) | (f.lun1 & 3);
  out[offset + 2] = checksum(out, offset, offset + 2);
  out[offset + 3] = f.a2;
  out[offset + 4] = ((f.seq & 0x3f) << 2) | (f.lun2 & 3);
  out[offset + 5] = f.cmd;
  out.set(body, offset + 6);
  const end = offset + 6 + body.length;
  out[end] = checksum(out, offset + 3, end);
  return out;
}

/** Decodes a whole buffer from `offset` to its end as one message. */
function decodeFrame(buf: Uint8Array, offset: number, what: string): Frame {
  need(buf, offset, 7, what);
  if (checksum(buf, offset, offset + 3) !== 0) throw new IpmiDecodeError(`${what}: header checksum mismatch`);
  if (checksum(buf, offset + 3, buf.length) !== 0) throw new IpmiDecodeError(`${what}: data checksum mismatch`);
  return {
    a1: buf[offset]!,
    netFn: buf[offset + 1]! >> 2,
    lun1: buf[offset + 1]! & 3,
    a2: buf[offset + 3]!,
    seq: buf[offset + 4]! >> 2,
    lun2: buf[offset + 4]! & 3,
    cmd: buf[offset + 5]!,
    body: buf.slice(offset + 6, buf.length - 1),
  };
}

export const ipmiRequestMessage: Codec<IpmiRequestMessage> = {
  encode(m, buf, offset = 0) {
    const f = { a1: m.rsAddr, netFn: m.netFn, lun1: m.rsLun, a2: m.rqAddr, seq: m.rqSeq, lun2: m.rqLun, cmd: m.cmd, body: m.data };
    return encodeFrame(f, m.data, buf, offset, "IPMI request");
  },
  /** The message spans from `offset` to the end of `buf`. */
  decode(buf, offset = 0) {
    const f = decodeFrame(buf, offset, "IPMI request");
    return { rsAddr: f.a1, netFn: f.netFn, rsLun: f.lun1, rqAddr: f.a2, rqSeq: f.seq, rqLun: f.lun2, cmd: f.cmd, data: f.body };
  },
  encodingLength(m) {
    return 7 + m.data.length;
  },
};

export const ipmiResponseMessage: Codec<IpmiResponseMessage> = {
  encode(m, buf, offset = 0) {
    const body = new Uint8Array(1 + m.data.length);
    body[0] = m.cc;
    body.set(m.data, 1);
    const f = { a1: m.rqAddr, netFn: m.netFn, lun1: m.rqLun, a2: m.rsAddr, seq: m.rqSeq, lun2: m.rsLun, cmd: m.cmd, body };
    return encodeFrame(f, body, buf, offset, "IPMI response");
  },
  /** The message spans from `offset` to the end of `buf`. */
  decode(buf, offset = 0) {
    const f = decodeFrame(buf, offset, "IPMI response");
    if (f.body.length < 1) throw new IpmiDecodeError("IPMI response: no completion code");
    return {
      rqAddr: f.a1,
      netFn: f.netFn,
      rqLun: f.lun1,
      rsAddr: f.a2,
      rqSeq: f.seq,
      rsLun: f.lun2,
      cmd: f.cmd,
      cc: f.body[0]!,
      data: f.body.slice(1),
    };
  },
  encodingLength(m) {
    return 8 + m.data.length;
  },
};
