// The responder's memo of replies by request content: hits carry the new request's XID,
// misses for anything that could change the answer (address, socket, registrations, bytes),
// never a memo for a request with a PRList, and a bounded size.
import { describe, expect, test } from "bun:test";
import { AnswerMemo } from "../../src/slp/answer-memo.ts";
import type { Registration } from "../../src/slp/registrations.ts";
import { srvRqst } from "../support/slp/requests.ts";

const reg = (id: string) => ({ id }) as unknown as Registration;
const A = reg("a");
const B = reg("b");
const reply = (xid: number) => Uint8Array.from([2, 2, 0, 0, 18, 0, 0, 0, 0, 0, xid >> 8, xid & 0xff, 0, 2, 0x65, 0x6e, 0, 0]);
const answer = { replyFunction: 2, contributors: [A] };

function memoWith(req: Uint8Array) {
  const m = new AnswerMemo(4);
  const k = m.key(req)!;
  m.put(k, req, "127.0.0.1", false, [A], reply(0x1234), answer);
  return m;
}

describe("AnswerMemo", () => {
  test("a repeat with another XID gets the memoised reply carrying its own XID", () => {
    const m = memoWith(srvRqst({ xid: 0x1234 }));
    const again = srvRqst({ xid: 0xbeef });
    const hit = m.get(m.key(again)!, again, "127.0.0.1", false, [A]);
    expect(hit?.bytes[10]).toBe(0xbe);
    expect(hit?.bytes[11]).toBe(0xef);
    expect(hit?.contributors).toEqual([A]);
  });

  test.each([
    ["another local address", "10.0.0.1", false, [A]],
    ["the group socket", "127.0.0.1", true, [A]],
    ["other registrations", "127.0.0.1", false, [B]],
    ["more registrations", "127.0.0.1", false, [A, B]],
  ] as const)("misses for %s", (_n, local, viaGroup, regs) => {
    const req = srvRqst({ xid: 1 });
    const m = memoWith(req);
    expect(m.get(m.key(req)!, req, local, viaGroup, regs)).toBeUndefined();
  });

  test("misses for different bytes, even under the same key", () => {
    const req = srvRqst({ xid: 1 });
    const m = memoWith(req);
    const other = srvRqst({ xid: 1, type: "service:wbex" });
    expect(m.get(m.key(req)!, other, "127.0.0.1", false, [A])).toBeUndefined();
    expect(m.get(m.key(other)!, other, "127.0.0.1", false, [A])).toBeUndefined();
  });

  test("requests with a PRList, and short or oversized ones, are never memoised", () => {
    const m = new AnswerMemo(4, 512);
    expect(m.key(srvRqst({ prList: "10.0.0.7" }))).toBeUndefined();
    expect(m.key(srvRqst().subarray(0, 15))).toBeUndefined();
    expect(m.key(srvRqst({ predicate: `(a=${"x".repeat(600)})` }))).toBeUndefined();
    expect(m.key(srvRqst())).toBeNumber();
  });

  test("holds at most maxEntries (oldest out first) and forgets everything on clear", () => {
    const m = new AnswerMemo(4);
    const reqs = Array.from({ length: 6 }, (_, i) => srvRqst({ type: `service:t${i}` }));
    for (const r of reqs) m.put(m.key(r)!, r, "127.0.0.1", false, [A], reply(1), answer);
    expect(m.size).toBe(4);
    expect(m.get(m.key(reqs[0]!)!, reqs[0]!, "127.0.0.1", false, [A])).toBeUndefined();
    expect(m.get(m.key(reqs[5]!)!, reqs[5]!, "127.0.0.1", false, [A])).toBeDefined();
    m.clear();
    expect(m.size).toBe(0);
  });
});
