// The SOL payload (IPMI v2.0 section 15.9, table 15-2), payload type 1 of an RMCP+ session:
//   packet sequence (4 bits, 0 = ACK-only), ACK/NACK sequence (4 bits, 0 = carries no ACK),
//   accepted character count, status (BMC → console) or operation (console → BMC) bits,
//   then the character data.
// The flags byte means different things per direction (SolBmcStatus / SolConsoleOp), so
// the codec keeps it as a byte.
import { IpmiDecodeError } from "../../errors.ts";
import { SOL_HEADER_LENGTH, SOL_MAX_SEQUENCE } from "../codes/sol.ts";
import { need, outBuffer } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export interface SolPacket {
  /** 1..15 for a packet that carries data or operations and wants an ACK; 0 for ACK-only. */
  sequence: number;
  /** The sequence number this packet ACKs or NACKs; 0 when it acknowledges nothing. */
  ackSequence: number;
  /** Characters accepted from the packet being ACKed/NACKed. */
  acceptedCount: number;
  /** Status (BMC → console) or operation (console → BMC) bits. */
  flags: number;
  data: Uint8Array;
}

function checkNibble(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > SOL_MAX_SEQUENCE) throw new RangeError(`SOL packet: ${what} ${v} is not 0..15`);
}

export const solPacket: Codec<SolPacket> = {
  encode(p, buf, offset = 0) {
    checkNibble(p.sequence, "sequence");
    checkNibble(p.ackSequence, "ack sequence");
    if (!Number.isInteger(p.acceptedCount) || p.acceptedCount < 0 || p.acceptedCount > 0xff) throw new RangeError(`SOL packet: accepted count ${p.acceptedCount} is not 0..255`);
    const out = outBuffer(buf, offset, solPacket.encodingLength(p), "SOL packet");
    out[offset] = p.sequence;
    out[offset + 1] = p.ackSequence;
    out[offset + 2] = p.acceptedCount;
    out[offset + 3] = p.flags & 0xff;
    out.set(p.data, offset + SOL_HEADER_LENGTH);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, SOL_HEADER_LENGTH, "SOL packet header");
    // The upper nibbles are reserved; a peer that sets them is not one we understand.
    if (buf[offset]! > SOL_MAX_SEQUENCE || buf[offset + 1]! > SOL_MAX_SEQUENCE) {
      throw new IpmiDecodeError(`SOL packet: reserved sequence bits set (${buf[offset]}, ${buf[offset + 1]})`);
    }
    return {
      sequence: buf[offset]!,
      ackSequence: buf[offset + 1]!,
      acceptedCount: buf[offset + 2]!,
      flags: buf[offset + 3]!,
      data: buf.slice(offset + SOL_HEADER_LENGTH),
    };
  },
  encodingLength(p) {
    return SOL_HEADER_LENGTH + p.data.length;
  },
};
