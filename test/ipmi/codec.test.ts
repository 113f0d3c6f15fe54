// Codec and crypto edge cases that real captures do not exercise: corrupt input, padding,
// the sequence window and the response cache.
import { describe, expect, test } from "bun:test";
import { IpmiDecodeError } from "../../src/errors.ts";
import { aesDecrypt, aesEncrypt, md5AuthCode, password16 } from "../../src/ipmi/crypto.ts";
import { ResponseCache } from "../../src/ipmi/server/response-cache.ts";
import { SequenceWindow, type SequenceVerdict } from "../../src/ipmi/server/sequence-window.ts";
import { fromHex, toHex } from "../../src/ipmi/wire/bytes.ts";
import { checksum, ipmiRequestMessage, ipmiResponseMessage } from "../../src/ipmi/wire/message.ts";
import { openSessionRequest, openSessionResponse } from "../../src/ipmi/wire/open-session.ts";
import { packet } from "../../src/ipmi/wire/packet.ts";
import { rakp1, rakp2 } from "../../src/ipmi/wire/rakp.ts";
import { ipmi15Session } from "../../src/ipmi/wire/session15.ts";
import { integrityPadLength, rmcpPlusSession } from "../../src/ipmi/wire/session20.ts";

// ipmitool's Get Channel Auth Capabilities request and vbmc4vsphere's v2-framed reply (see notes/ipmi.md).
const AUTH_CAP_REQUEST = "0600ff07000000000000000000092018c88100388e04b5";
const AUTH_CAP_REPLY_V2 = "0600ff07060000000000000000001000811c63200038000180040200000000" + "21";

describe("IPMI message", () => {
  test("decodes ipmitool's Get Channel Auth Capabilities request", () => {
    const p = packet.decode(fromHex(AUTH_CAP_REQUEST));
    expect(p.kind).toBe("ipmi15");
    if (p.kind !== "ipmi15") return;
    const m = ipmiRequestMessage.decode(p.session.payload);
    expect(m).toMatchObject({ rsAddr: 0x20, netFn: 6, rsLun: 0, rqAddr: 0x81, rqSeq: 0, cmd: 0x38 });
    expect(toHex(m.data)).toBe("8e04");
  });

  test("decodes a v2-framed reply and its 8 data bytes", () => {
    const p = packet.decode(fromHex(AUTH_CAP_REPLY_V2));
    expect(p.kind).toBe("rmcp+");
    if (p.kind !== "rmcp+") return;
    const m = ipmiResponseMessage.decode(p.session.payload);
    expect(m.cc).toBe(0);
    expect(toHex(m.data)).toBe("0180040200000000");
    expect(toHex(packet.encode(p))).toBe(AUTH_CAP_REPLY_V2);
  });

  test.each([
    ["header checksum", 2],
    ["data checksum", 8],
    ["a data byte", 6],
  ])("a corrupted %s is refused", (_what, index) => {
    const m = ipmiRequestMessage.encode({ rsAddr: 0x20, netFn: 0, rsLun: 0, rqAddr: 0x81, rqSeq: 5, rqLun: 0, cmd: 2, data: new Uint8Array([1, 2]) });
    m[index]! ^= 0x01;
    expect(() => ipmiRequestMessage.decode(m)).toThrow(IpmiDecodeError);
  });

  test("checksum makes the covered bytes sum to zero", () => {
    const b = new Uint8Array([0x20, 0x18, 0]);
    b[2] = checksum(b, 0, 2);
    expect((b[0]! + b[1]! + b[2]!) & 0xff).toBe(0);
  });

  test("a response without a completion code is refused", () => {
    const m = ipmiRequestMessage.encode({ rsAddr: 0x81, netFn: 7, rsLun: 0, rqAddr: 0x20, rqSeq: 1, rqLun: 0, cmd: 1, data: new Uint8Array(0) });
    expect(() => ipmiResponseMessage.decode(m)).toThrow(/no completion code/);
  });
});

describe("session wrappers", () => {
  test.each([
    ["empty", ""],
    ["RMCP header only", "0600ff07"],
    ["wrong RMCP version", "0500ff07000000000000000000092018c88104388e04b5"],
    ["RMCP ACK", "0600ff87"],
    ["unknown class", "0600ff0a00"],
    ["1.5 message longer than the datagram", "0600ff07000000000000000000ff2018c8"],
    ["1.5 MD5 header cut short", "0600ff0702000000000000000000"],
    ["RMCP+ payload longer than the datagram", "0600ff0706000000000000000000ff00"],
    ["RMCP+ OEM header cut short", "0600ff070602"],
  ])("%s is an IpmiDecodeError", (_what, hex) => {
    expect(() => packet.decode(fromHex(hex))).toThrow(IpmiDecodeError);
  });

  test.each([0, 1, 2, 3, 4, 5, 17, 31])("integrity pad for a %i-byte payload fills to a multiple of 4", (n) => {
    const s = { payloadType: 0, encrypted: false, authenticated: true, sessionId: 7, sequence: 9, payload: new Uint8Array(n), authCode: new Uint8Array(12) };
    const enc = rmcpPlusSession.encode(s);
    expect((12 + n + integrityPadLength(12 + n) + 2) % 4).toBe(0);
    expect(rmcpPlusSession.decode(enc)).toEqual(s);
  });

  test("a bad integrity pad byte is refused", () => {
    const s = { payloadType: 0, encrypted: false, authenticated: true, sessionId: 7, sequence: 9, payload: new Uint8Array(1), authCode: new Uint8Array(12) };
    const enc = rmcpPlusSession.encode(s);
    enc[13] = 0x00; // first pad byte
    expect(() => rmcpPlusSession.decode(enc)).toThrow(/pad byte/);
  });

  test("an IPMI 1.5 MD5 session header round-trips", () => {
    const s = { authType: 2, sequence: 0x01020304, sessionId: 0xa0b0c0d0, authCode: new Uint8Array(16).fill(7), payload: new Uint8Array([1, 2, 3]) };
    expect(ipmi15Session.decode(ipmi15Session.encode(s))).toEqual(s);
  });
});

describe("RMCP+ handshake messages", () => {
  test("an Open Session Request with wildcard payloads (length 0) decodes with no algorithms", () => {
    const enc = openSessionRequest.encode({
      messageTag: 1,
      requestedMaxPrivilege: 0,
      remoteConsoleSessionId: 5,
      auth: {},
      integrity: {},
      confidentiality: { algorithm: 1 },
    });
    expect(enc[11]).toBe(0);
    const d = openSessionRequest.decode(enc);
    expect(d.auth.algorithm).toBeUndefined();
    expect(d.confidentiality.algorithm).toBe(1);
  });

  test("an error Open Session Response is 8 bytes and decodes from OpenIPMI's 2-byte form", () => {
    const r = { messageTag: 3, status: 0x11, maxPrivilege: 0, remoteConsoleSessionId: 9, managedSystemSessionId: 0, auth: 0, integrity: 0, confidentiality: 0 };
    expect(openSessionResponse.encode(r).length).toBe(8);
    expect(openSessionResponse.decode(new Uint8Array([3, 0x04])).status).toBe(0x04);
  });

  test("RAKP1 refuses user names longer than 16 bytes", () => {
    const m = rakp1.encode({ messageTag: 0, managedSystemSessionId: 1, consoleRandom: new Uint8Array(16), role: 0x14, username: new Uint8Array(4) });
    m[27] = 17;
    expect(() => rakp1.decode(m)).toThrow(/exceeds 16/);
  });

  test("a RAKP2 error carries no random, GUID or code", () => {
    const e = rakp2.encode({ messageTag: 0, status: 0x0d, remoteConsoleSessionId: 4, bmcRandom: new Uint8Array(16), bmcGuid: new Uint8Array(16), keyExchangeAuthCode: new Uint8Array(20) });
    expect(e.length).toBe(8);
    expect(rakp2.decode(e).status).toBe(0x0d);
  });
});

describe("crypto", () => {
  test.each([0, 1, 14, 15, 16, 17, 31, 32, 100])("AES-CBC-128 round-trips a %i-byte payload with 01 02 .. N padding", (n) => {
    const k2 = new Uint8Array(20).map((_, i) => i * 7);
    const payload = new Uint8Array(n).map((_, i) => i);
    const iv = new Uint8Array(16).fill(0x42);
    const enc = aesEncrypt(k2, payload, iv);
    expect((enc.length - 16) % 16).toBe(0);
    expect(toHex(enc.subarray(0, 16))).toBe(toHex(iv));
    expect(toHex(aesDecrypt(k2, enc))).toBe(toHex(payload));
  });

  test("AES decryption refuses a wrong key (bad padding) and short input", () => {
    const enc = aesEncrypt(new Uint8Array(16).fill(1), new Uint8Array(5));
    let failures = 0;
    // With a wrong key the pad check fails for nearly every key; try a few.
    for (let k = 2; k < 10; k++) {
      try {
        aesDecrypt(new Uint8Array(16).fill(k), enc);
      } catch (e) {
        expect(e).toBeInstanceOf(IpmiDecodeError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(5);
    expect(() => aesDecrypt(new Uint8Array(16), new Uint8Array(20))).toThrow(IpmiDecodeError);
  });

  test("IPMI 1.5 MD5 auth code of ipmitool's Activate Session to ipmi_sim (captured)", () => {
    // Session 0x85, sequence 0, password "secret"; captured on loopback.
    const msg = fromHex("2018c8810c3a0204ceb5a330850578bfb5327e617decc2aeab8b0ffc3c");
    expect(toHex(md5AuthCode(password16("secret"), 0x85, msg, 0))).toBe("fffe53e42007ccfe23cd00a2321f79e0");
  });
});

describe("sequence window (32 entries)", () => {
  const cases: [string, number | undefined, number[], number, SequenceVerdict][] = [
    ["first number, any start", undefined, [], 77, "new"],
    ["zero is never valid", undefined, [], 0, "outside"],
    ["IPMI 1.5 start must match the announced one", 1000, [], 5, "outside"],
    ["IPMI 1.5 start within the window", 1000, [], 1003, "new"],
    ["the next number", undefined, [10], 11, "new"],
    ["a replay of the last", undefined, [10, 11], 11, "duplicate"],
    ["a replay inside the window", undefined, [10, 11, 12], 10, "duplicate"],
    ["a late, unseen one inside the window", undefined, [10, 12], 11, "new"],
    ["too old", undefined, [100], 60, "outside"],
    ["too far ahead", undefined, [100], 200, "outside"],
    ["wraps around 2^32", undefined, [0xffffffff], 1, "new"],
  ];
  test.each(cases)("%s", (_what, first, accepted, seq, verdict) => {
    const w = new SequenceWindow(first);
    for (const a of accepted) {
      expect(w.check(a)).toBe("new");
      w.accept(a);
    }
    expect(w.check(seq)).toBe(verdict);
  });
});

describe("response cache", () => {
  const req = (rqSeq: number, data = [1]) => ({ rsAddr: 0x20, netFn: 0, rsLun: 0, rqAddr: 0x81, rqSeq, rqLun: 0, cmd: 2, data: new Uint8Array(data) });
  test("finds an answer by session sequence and by rqSeq+command+data within 5 s", async () => {
    const c = new ResponseCache();
    c.add(7, req(3), 1000, Promise.resolve({ cc: 0 }));
    expect(c.bySequence(7)).toBeDefined();
    expect(c.bySequence(8)).toBeUndefined();
    expect(c.byRequest(req(3), 2000)).toBeDefined();
    expect(c.byRequest(req(3, [2]), 2000)).toBeUndefined();
    expect(c.byRequest(req(4), 2000)).toBeUndefined();
    expect(c.byRequest(req(3), 7000)).toBeUndefined();
  });
  test("retryOf: the rqSeq match, or the latest request's content under any rqSeq (freeipmi)", () => {
    const c = new ResponseCache();
    c.add(1, req(3), 1000, Promise.resolve({ cc: 0 }));
    c.add(2, req(4, [9]), 1000, Promise.resolve({ cc: 0 }));
    expect(c.retryOf(req(3), 2000)?.request.rqSeq).toBe(3);
    expect(c.retryOf(req(5, [9]), 2000)?.request.rqSeq).toBe(4);
    // Not the latest request: a new rqSeq makes it a new request.
    expect(c.retryOf(req(5), 2000)).toBeUndefined();
    expect(c.retryOf(req(5, [9]), 6001)).toBeUndefined();
  });
  test("keeps at most 32 entries", () => {
    const c = new ResponseCache();
    for (let i = 1; i <= 40; i++) c.add(i, req(i & 0x3f), 0, Promise.resolve({ cc: 0 }));
    expect(c.size).toBe(32);
    expect(c.bySequence(1)).toBeUndefined();
    expect(c.bySequence(40)).toBeDefined();
  });
});
