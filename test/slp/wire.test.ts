// The SLPv2 codec against golden vectors (captured from OpenSLP, or assembled from the RFC
// figures) and against Wireshark's srvloc dissector.
import { describe, expect, test } from "bun:test";
import { SlpDecodeError } from "../../src/errors.ts";
import {
  authBlock,
  decodeHeader,
  fromHex,
  header,
  message,
  splitList,
  toHex,
  urlEntry,
} from "../../src/slp/wire/index.ts";
import { tshark } from "../support/slp/pcap.ts";
import { VECTORS } from "./fixtures/vectors.ts";

const isReply = (fn: number) => fn === 2 || fn === 7 || fn === 10 || fn === 11;

describe("golden vectors", () => {
  test.each(VECTORS.map((v) => [v.name, v] as const))("%s: decode, encode, length", (_name, v) => {
    const bytes = fromHex(v.hex);
    const decoded = message.decode(bytes);
    expect(decoded).toEqual(v.message);
    expect(toHex(message.encode(v.message))).toBe(toHex(bytes));
    expect(message.encodingLength(v.message)).toBe(bytes.length);
    // encode → decode → encode is stable
    expect(toHex(message.encode(message.decode(message.encode(decoded))))).toBe(toHex(bytes));
  });

  test("encode writes at an offset into a caller's buffer", () => {
    const v = VECTORS[0]!;
    const buf = new Uint8Array(10 + message.encodingLength(v.message));
    message.encode(v.message, buf, 10);
    expect(toHex(buf.subarray(10))).toBe(toHex(fromHex(v.hex)));
    expect(message.decode(buf, 10)).toEqual(v.message);
  });

  test("tshark's srvloc dissector reads every vector without a malformed marker and with the expected fields", () => {
    const fields = [...new Set(VECTORS.flatMap((v) => Object.keys(v.tshark)))];
    const r = tshark(
      VECTORS.map((v) => ({ payload: fromHex(v.hex), srcPort: isReply(v.message.functionId) ? 427 : 40000, dstPort: isReply(v.message.functionId) ? 40000 : 427 })),
      fields,
    );
    expect(r.malformed).toEqual([]);
    expect(r.fields.length).toBe(VECTORS.length);
    VECTORS.forEach((v, i) => {
      for (const [f, want] of Object.entries(v.tshark)) expect(`${v.name}: ${f}=${r.fields[i]?.[f]}`).toBe(`${v.name}: ${f}=${want}`);
    });
  });
});

describe("pieces", () => {
  test("header round trip and flags", () => {
    const h = { version: 2, functionId: 6, length: 16, flags: 0xa000, nextExtOffset: 0, xid: 65535, langTag: "de" };
    const b = header.encode(h);
    expect(toHex(b)).toBe("02060000 10a000000000ffff0002 6465".replace(/ /g, ""));
    expect(header.decode(b)).toEqual(h);
    expect(header.encodingLength(h)).toBe(16);
  });

  test("URL entry with UTF-8 and its length", () => {
    const e = { lifetime: 10800, url: "service:x://hôte" };
    const b = urlEntry.encode(e);
    expect(b.length).toBe(urlEntry.encodingLength(e));
    expect(b.length).toBe(6 + Buffer.byteLength(e.url));
    expect(urlEntry.decode(b)).toEqual(e);
  });

  test("auth block round trip", () => {
    const a = { bsd: 0x8001, timestamp: 0xfffffffe, spi: "x", data: new Uint8Array([9, 9]) };
    const b = authBlock.encode(a);
    expect(b.length).toBe(13);
    expect(authBlock.decode(b)).toEqual(a);
  });

  test("string lists split on commas and trim", () => {
    expect(splitList(" DEFAULT , foo,,bar ")).toEqual(["DEFAULT", "foo", "bar"]);
    expect(splitList("")).toEqual([]);
  });
});

// Each malformed input names its reason; none may escape as anything but SlpDecodeError.
const srvRqstHex = VECTORS[0]!.hex.replace(/\s/g, "");
function mutate(fn: (b: Uint8Array) => Uint8Array): Uint8Array {
  return fn(fromHex(srvRqstHex));
}

const BAD: Array<[string, Uint8Array, string]> = [
  ["empty", new Uint8Array(0), "truncated"],
  ["13 bytes", mutate((b) => b.subarray(0, 13)), "truncated"],
  ["version 1", mutate((b) => ((b[0] = 1), b)), "version"],
  ["version 3", mutate((b) => ((b[0] = 3), b)), "version"],
  ["length says more than the datagram", mutate((b) => ((b[4] = b[4]! + 1), b)), "length-mismatch"],
  ["length says less than the datagram", mutate((b) => ((b[4] = b[4]! - 1), b)), "length-mismatch"],
  ["reserved flag bit", mutate((b) => ((b[6] = 1), b)), "flags"],
  ["language tag past the end", mutate((b) => ((b[12] = 0xff), b)), "string-overflow"],
  ["PRList length 0xFFFF", mutate((b) => ((b[16] = 0xff), (b[17] = 0xff), b)), "string-overflow"],
  ["service type past the end", mutate((b) => ((b[18] = 0x7f), b)), "string-overflow"],
  ["SPI length past the end", mutate((b) => ((b[44] = 9), b)), "string-overflow"],
  ["extension offset into the header", mutate((b) => ((b[9] = 4), b)), "ext-offset"],
  ["extension offset past the end", mutate((b) => ((b[9] = 44), b)), "ext-offset"],
  ["extension offset inside the body", mutate((b) => ((b[9] = 30), b)), "ext-offset"],
  ["invalid UTF-8 in the service type", mutate((b) => ((b[20] = 0xff), b)), "bad-utf8"],
];

describe("refused input", () => {
  test.each(BAD)("%s", (_n, bytes, reason) => {
    let err: unknown;
    try {
      message.decode(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlpDecodeError);
    expect((err as SlpDecodeError).reason).toBe(reason);
  });

  test("an extension chain that loops back is refused (CVE-2010-3609 class)", () => {
    // Two extensions after the body; the second points back at the first.
    const v = VECTORS[0]!.message;
    const withExt = message.encode({ ...v, extensions: [{ id: 1, data: new Uint8Array(0) }, { id: 2, data: new Uint8Array(0) }] });
    expect(message.decode(withExt).extensions?.length).toBe(2);
    const loop = Uint8Array.from(withExt);
    const second = 45 + 5;
    loop[second + 2] = 0;
    loop[second + 3] = 0;
    loop[second + 4] = 45; // back to the first extension
    expect(() => message.decode(loop)).toThrow(SlpDecodeError);
    const self = Uint8Array.from(withExt);
    self[45 + 4] = 45; // the first points at itself
    let err: unknown;
    try {
      message.decode(self);
    } catch (e) {
      err = e;
    }
    expect((err as SlpDecodeError).reason).toBe("ext-loop");
  });

  test("a SrvRply that claims more URL entries than bytes can hold is refused before looping", () => {
    const b = fromHex(VECTORS[1]!.hex);
    b[19] = 0xff;
    b[18] = 0xff;
    expect(() => message.decode(b)).toThrow("cannot fit");
  });

  test("decodeHeader rejects a non-v2 datagram shorter than a header with the version reason", () => {
    expect(() => decodeHeader(new Uint8Array([1, 1, 0]))).toThrow("version 1");
  });
});
