// The SOL payload codec (IPMI v2.0 table 15-2) over golden vectors, both directions.
import { describe, expect, test } from "bun:test";
import { IpmiDecodeError } from "../../src/errors.ts";
import { SolBmcStatus, SolConsoleOp } from "../../src/ipmi/codes/sol.ts";
import { fromHex, toHex } from "../../src/ipmi/wire/bytes.ts";
import { solPacket, type SolPacket } from "../../src/ipmi/wire/sol.ts";

const text = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

const VECTORS: [string, SolPacket, string][] = [
  ["BMC → console data, sequence 1", { sequence: 1, ackSequence: 0, acceptedCount: 0, flags: 0, data: text("login: ") }, "010000006c6f67696e3a20"],
  ["console ACK-only of packet 1, 7 characters accepted", { sequence: 0, ackSequence: 1, acceptedCount: 7, flags: 0, data: new Uint8Array(0) }, "00010700"],
  ["console keystroke with a break request", { sequence: 2, ackSequence: 0, acceptedCount: 0, flags: SolConsoleOp.generateBreak, data: text("a") }, "0200001061"],
  ["console data piggybacking an ACK of 15", { sequence: 3, ackSequence: 15, acceptedCount: 251, flags: 0, data: text("ls\r") }, "030ffb006c730d"],
  ["console NACK of 4 with a flush of both directions", { sequence: 0, ackSequence: 4, acceptedCount: 0, flags: SolConsoleOp.nack | SolConsoleOp.flushInbound | SolConsoleOp.flushOutbound, data: new Uint8Array(0) }, "00040043"],
  ["BMC status: SOL inactive, transfer unavailable", { sequence: 5, ackSequence: 0, acceptedCount: 0, flags: SolBmcStatus.inactive | SolBmcStatus.transferUnavailable, data: new Uint8Array(0) }, "05000030"],
  ["BMC data with transmit overrun, sequence 15", { sequence: 15, ackSequence: 0, acceptedCount: 0, flags: SolBmcStatus.transmitOverrun, data: new Uint8Array([0xff, 0x00]) }, "0f000008ff00"],
];

describe("SOL packet codec", () => {
  test.each(VECTORS)("%s", (_what, value, hex) => {
    expect(toHex(solPacket.encode(value))).toBe(hex);
    expect(solPacket.encodingLength(value)).toBe(hex.length / 2);
    const back = solPacket.decode(fromHex(hex));
    expect(back).toEqual(value);
    expect(toHex(solPacket.encode(back))).toBe(hex);
  });

  test("encodes at an offset of a caller's buffer", () => {
    const buf = new Uint8Array(10).fill(0xee);
    solPacket.encode({ sequence: 1, ackSequence: 2, acceptedCount: 3, flags: 4, data: text("x") }, buf, 3);
    expect(toHex(buf)).toBe("eeeeee0102030478eeee");
    expect(solPacket.decode(buf.subarray(0, 8), 3).data).toEqual(text("x"));
  });

  test.each([
    ["three bytes", "010000"],
    ["reserved bits in the sequence byte", "11000000"],
    ["reserved bits in the ack byte", "0020000041"],
  ])("decode rejects %s with IpmiDecodeError", (_what, hex) => {
    expect(() => solPacket.decode(fromHex(hex))).toThrow(IpmiDecodeError);
  });

  test.each([
    ["sequence 16", { sequence: 16 }],
    ["ack sequence -1", { ackSequence: -1 }],
    ["accepted count 256", { acceptedCount: 256 }],
  ])("encode refuses %s", (_what, bad) => {
    const p: SolPacket = { sequence: 1, ackSequence: 0, acceptedCount: 0, flags: 0, data: new Uint8Array(0), ...bad };
    expect(() => solPacket.encode(p)).toThrow(RangeError);
  });
});
