// The responder's reply cache: retransmissions answered identically, entries expiring after
// their TTL, and the size bound holding with the oldest entries evicted first.
import { describe, expect, test } from "bun:test";
import { ReplyCache } from "../../src/slp/limits.ts";

const req = (xid: number, tail = 0) => Uint8Array.from([2, 1, 0, 0, 16, 0, 0, 0, 0, 0, xid >> 8, xid & 0xff, 0, 2, 0x65, tail]);
const reply = (n: number) => Uint8Array.from([n]);

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("ReplyCache", () => {
  test.each([
    ["identical retransmission", req(7), reply(1)],
    ["same XID, different bytes", req(7, 1), undefined],
  ])("%s", (_name, again, expected) => {
    const c = new ReplyCache(15_000, 4, clock().now);
    c.put("127.0.0.1", 5000, 7, req(7), reply(1));
    expect(c.get("127.0.0.1", 5000, 7, again)).toEqual(expected as Uint8Array | undefined);
    expect(c.get("127.0.0.1", 5001, 7, req(7))).toBeUndefined();
  });

  test("keeps its own copy of the request bytes", () => {
    const c = new ReplyCache(15_000, 4, clock().now);
    const b = req(9);
    c.put("a", 1, 9, b, reply(2));
    b[15] = 0xee;
    expect(c.get("a", 1, 9, req(9))).toEqual(reply(2));
  });

  test("entries expire after the TTL and are dropped on the next put", () => {
    const k = clock();
    const c = new ReplyCache(1000, 16, k.now);
    for (let i = 0; i < 10; i++) c.put("a", 1, i, req(i), reply(i));
    k.advance(600);
    c.put("a", 1, 100, req(100), reply(100));
    k.advance(600); // the first ten are now 1200 ms old, the last 600 ms
    expect(c.get("a", 1, 3, req(3))).toBeUndefined();
    c.put("a", 1, 101, req(101), reply(101));
    expect(c.size).toBe(2);
    expect(c.get("a", 1, 100, req(100))).toEqual(reply(100));
  });

  test("never holds more than maxEntries; the oldest go first; a re-put counts as new", () => {
    const c = new ReplyCache(15_000, 100, clock().now);
    for (let i = 0; i < 100; i++) c.put("a", 1, i, req(i), reply(i));
    c.put("a", 1, 0, req(0), reply(0)); // refreshed: now the newest
    for (let i = 100; i < 150; i++) c.put("a", 1, i, req(i), reply(i));
    expect(c.size).toBe(100);
    expect(c.get("a", 1, 0, req(0))).toEqual(reply(0));
    expect(c.get("a", 1, 1, req(1))).toBeUndefined();
    expect(c.get("a", 1, 50, req(50))).toBeUndefined();
    expect(c.get("a", 1, 51, req(51))).toEqual(reply(51));
    expect(c.get("a", 1, 149, req(149))).toEqual(reply(149));
  });

  test("a TTL of 0 caches nothing", () => {
    const c = new ReplyCache(0, 4, clock().now);
    c.put("a", 1, 1, req(1), reply(1));
    expect(c.size).toBe(0);
  });
});
