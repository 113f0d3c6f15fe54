// How the BMC paces VM output to the console (no clocks asserted): output that finds the
// link idle leaves on the next event-loop turn whatever the accumulate interval; output held
// while a packet is unacked leaves with the ACK, a full packet at a time; a multi-MiB burst
// arrives whole; beyond the buffer bound the oldest bytes are dropped, counted and flagged.
import { describe, expect, test } from "bun:test";
import { SolBmcStatus } from "../../src/ipmi/codes/sol.ts";
import { IpmiSessionEngine } from "../../src/ipmi/server/engine.ts";
import { SOL_BUFFER_LIMIT } from "../../src/ipmi/server/sol-link.ts";
import { SOL_PAYLOAD_SIZE } from "../../src/ipmi/server/sol-service.ts";
import { SOL_HEADER_LENGTH } from "../../src/ipmi/codes/sol.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { echoConsole, type EchoConsole } from "../support/ipmi/echo-console.ts";
import { ADMIN, TEST_GUID } from "../support/ipmi/peers.ts";
import { solSession, until, type SolSession } from "../support/ipmi/sol-raw.ts";

const FULL = SOL_PAYLOAD_SIZE - SOL_HEADER_LENGTH;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** The default accumulate settings (60 ms, 96 characters) unless `accumulate` says otherwise. */
async function activeSol(accumulate?: [number, number]): Promise<{ e: IpmiSessionEngine; con: EchoConsole; s: SolSession }> {
  const con = echoConsole({ echo: false });
  const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: fakeChassis(TEST_GUID).handler, sol: con });
  const s = await solSession(e, ADMIN);
  if (accumulate) expect((await s.request(0x0c, 0x21, [0x0e, 3, ...accumulate]))?.cc).toBe(0);
  expect((await s.request(0x0c, 0x21, [0x0e, 4, 7, 50]))?.cc).toBe(0);
  expect((await s.activate())?.cc).toBe(0);
  return { e, con, s };
}

/** Bytes 0..255 repeating, so a dropped or doubled stretch shows. */
function pattern(n: number, from = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) & 0xff;
  return b;
}

/** ACKs every packet as it comes until `total` bytes arrived; returns them and the packet count. */
async function receiveAll(s: SolSession, total: number): Promise<{ bytes: Uint8Array; packets: number; flags: number[] }> {
  const out = new Uint8Array(total);
  let got = 0;
  let packets = 0;
  const flags: number[] = [];
  while (got < total) {
    await until(() => s.path.sent.length > 0, 3000, `packet after ${got} bytes`);
    const sent = s.drain();
    expect(sent.length).toBe(1); // stop-and-wait: never a second packet before the ACK
    const p = sent[0]!;
    out.set(p.data, got);
    got += p.data.length;
    packets++;
    flags.push(p.flags);
    await s.sol({ ackSequence: p.sequence, acceptedCount: p.data.length });
  }
  return { bytes: out, packets, flags };
}

describe("SOL output pacing", () => {
  test.each([
    ["the default 60 ms / 96 characters", undefined],
    ["the longest accumulate interval and threshold", [255, 255] as [number, number]],
  ])("a keystroke's echo on an idle link leaves on the next turn, not after the accumulate interval (%s)", async (_, acc) => {
    const { e, con, s } = await activeSol(acc);
    con.last()!.emit("A");
    expect(s.path.sent.length).toBe(0); // never inside the port's callback
    await nextTurn();
    expect(s.drain().map((p) => [p.sequence, String.fromCharCode(...p.data)])).toEqual([[1, "A"]]);
    e.stop();
  });

  test("output arriving while a packet is unacked leaves with the ACK, a full packet, the rest after the next ACK", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.emit("a");
    await nextTurn();
    const [first] = s.drain();
    con.last()!.emit(pattern(FULL + 10));
    await nextTurn();
    expect(s.path.sent.length).toBe(0); // held: one packet in flight
    await s.sol({ ackSequence: first!.sequence, acceptedCount: 1 });
    // No timer between the ACK and the next packet: it is already out when the ACK is handled.
    const [second] = s.drain();
    expect(second!.sequence).toBe(2);
    expect(second!.data).toEqual(pattern(FULL));
    await s.sol({ ackSequence: second!.sequence, acceptedCount: FULL });
    const [third] = s.drain();
    expect([third!.sequence, third!.data.length]).toEqual([3, 10]);
    expect(third!.data).toEqual(pattern(10, FULL));
    e.stop();
  });

  test.each([
    ["one 2 MiB chunk", 1],
    ["2 MiB in 4 KiB chunks", 512],
  ])("a 2 MiB burst from the VM (%s) reaches the console whole, in order, in full packets", async (_, chunks) => {
    const { e, con, s } = await activeSol();
    const total = 2 * 1024 * 1024;
    const all = pattern(total);
    const step = total / chunks;
    for (let o = 0; o < total; o += step) con.last()!.emit(all.subarray(o, o + step));
    const r = await receiveAll(s, total);
    expect(Buffer.compare(Buffer.from(r.bytes), Buffer.from(all))).toBe(0);
    expect(r.packets).toBe(Math.ceil(total / FULL));
    expect(r.flags.every((f) => (f & SolBmcStatus.transmitOverrun) === 0)).toBe(true);
    expect(e.stats().solOverrunBytes).toBe(0);
    expect(e.stats().solBytesOut).toBe(total);
    e.stop();
  }, 60_000);

  test("beyond the buffer bound the oldest output is dropped, counted and flagged as overrun; the newest arrives", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.emit("a");
    await nextTurn();
    const [first] = s.drain();
    const over = 1000;
    const burst = pattern(SOL_BUFFER_LIMIT + over);
    con.last()!.emit(burst.subarray(0, 600));
    con.last()!.emit(burst.subarray(600));
    expect(e.stats().solOverrunBytes).toBe(over);
    await s.sol({ ackSequence: first!.sequence, acceptedCount: 1 });
    const [next] = s.drain();
    expect(next!.flags & SolBmcStatus.transmitOverrun).toBe(SolBmcStatus.transmitOverrun);
    expect(next!.data).toEqual(burst.subarray(over, over + FULL));
    await s.sol({ ackSequence: next!.sequence, acceptedCount: FULL });
    const rest = await receiveAll(s, SOL_BUFFER_LIMIT - FULL);
    expect(Buffer.compare(Buffer.from(rest.bytes), Buffer.from(burst.subarray(over + FULL)))).toBe(0);
    expect(rest.flags.every((f) => (f & SolBmcStatus.transmitOverrun) === 0)).toBe(true);
    e.stop();
  }, 60_000);
});
