// The engine's SOL side driven in-process with raw packets: payload commands and their
// completion codes, SOL configuration, and the packet protocol in both directions
// (sequence numbers, ACK/NACK, partial accept, retransmission, duplicates, hang-up).
import { describe, expect, test } from "bun:test";
import { PayloadType } from "../../src/ipmi/codes/auth-types.ts";
import { SolBmcStatus, SolConsoleOp } from "../../src/ipmi/codes/sol.ts";
import { sealRmcpPlus } from "../../src/ipmi/secure.ts";
import { IpmiSessionEngine, type EngineOptions } from "../../src/ipmi/server/engine.ts";
import { toHex } from "../../src/ipmi/wire/bytes.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { echoConsole, type EchoConsole } from "../support/ipmi/echo-console.ts";
import { ADMIN, OPERATOR, TEST_GUID } from "../support/ipmi/peers.ts";
import { solSession, until, type SolSession } from "../support/ipmi/sol-raw.ts";

const OTHER = { address: "127.0.0.1", port: 40001 };

function engineWith(over: Partial<EngineOptions> = {}): IpmiSessionEngine {
  const ch = fakeChassis(TEST_GUID);
  return new IpmiSessionEngine({ users: [ADMIN, OPERATOR], guid: TEST_GUID, handler: ch.handler, ...over });
}

/** An engine with an echo-less console and fast SOL timers (5 ms accumulate, 2 retries 20 ms apart). */
async function activeSol(opts: { retries?: number; interval?: number; over?: Partial<EngineOptions> } = {}): Promise<{ e: IpmiSessionEngine; con: EchoConsole; s: SolSession }> {
  const con = echoConsole({ echo: false });
  const e = engineWith({ sol: con, ...opts.over });
  const s = await solSession(e, ADMIN);
  expect((await s.request(0x0c, 0x21, [0x0e, 3, 1, 1]))?.cc).toBe(0);
  expect((await s.request(0x0c, 0x21, [0x0e, 4, opts.retries ?? 2, opts.interval ?? 2]))?.cc).toBe(0);
  expect((await s.activate())?.cc).toBe(0);
  return { e, con, s };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const str = (b: Uint8Array) => Buffer.from(b).toString("latin1");

describe("payload commands", () => {
  test("Activate Payload answers aux 0, 255/255 payload sizes, the datagram's local port and VLAN none", async () => {
    const con = echoConsole();
    const e = engineWith({ sol: con });
    const s = await solSession(e, ADMIN);
    const r = await s.activate();
    expect(r?.cc).toBe(0);
    expect(toHex(r!.data)).toBe("00000000" + "ff00" + "ff00" + "5618" + "ffff");
    expect(toHex((await s.request(0x06, 0x4a, [0x01]))!.data)).toBe("010100");
    const info = await s.request(0x06, 0x4b, [0x01, 0x01]);
    expect(info!.data.length).toBe(12);
    expect(Buffer.from(info!.data).readUInt32LE(0)).toBe(s.raw.bmcId);
    expect(e.solStatus()).toMatchObject({ active: true, sessionId: s.raw.bmcId, user: "admin", consoleOpen: true });
    expect(con.ports.length).toBe(1);
    e.stop();
  });

  test("a second activation gets 0x80 until the first deactivates; then it works at once", async () => {
    const con = echoConsole();
    const e = engineWith({ sol: con });
    const first = await solSession(e, ADMIN);
    const second = await solSession(e, ADMIN, OTHER);
    expect((await first.activate())?.cc).toBe(0);
    expect((await second.activate())?.cc).toBe(0x80);
    // Ironic's pattern: `sol deactivate` from another session, then `sol activate`.
    expect((await second.deactivate())?.cc).toBe(0);
    expect(con.ports[0]!.closed).toBe(true);
    // The deactivated console is told: one packet with "SOL inactive".
    expect(first.drain().map((p) => p.flags & SolBmcStatus.inactive)).toEqual([SolBmcStatus.inactive]);
    expect(toHex((await second.request(0x06, 0x4a, [0x01]))!.data)).toBe("010000");
    expect((await second.deactivate())?.cc).toBe(0x80);
    expect((await second.activate())?.cc).toBe(0);
    expect(e.solStatus().sessionId).toBe(second.raw.bmcId);
    expect(e.stats()).toMatchObject({ solActivations: 2, solDeactivations: 1, solRefused: 1 });
    e.stop();
  });

  test.each([
    ["Close Session", async (s: SolSession, _e: IpmiSessionEngine) => void (await s.request(0x06, 0x3c, [...Buffer.from(new Uint32Array([s.raw.bmcId]).buffer)]))],
    ["closeAll", async (_s: SolSession, e: IpmiSessionEngine) => e.closeAll()],
    ["stop", async (_s: SolSession, e: IpmiSessionEngine) => e.stop()],
  ])("%s ends the SOL payload and closes the console port", async (_what, end) => {
    const con = echoConsole();
    const e = engineWith({ sol: con });
    const s = await solSession(e, ADMIN);
    expect((await s.activate())?.cc).toBe(0);
    await end(s, e);
    expect(e.solStatus().active).toBe(false);
    expect(con.ports[0]!.closed).toBe(true);
    const next = await solSession(e, ADMIN, OTHER);
    expect((await next.activate())?.cc).toBe(0);
    e.stop();
  });

  test("an idle session expires and takes the SOL payload with it", async () => {
    let now = 1_000_000;
    const con = echoConsole();
    const e = engineWith({ sol: con, now: () => now, sessionTimeoutMs: 5000 });
    const s = await solSession(e, ADMIN);
    expect((await s.activate())?.cc).toBe(0);
    now += 6000;
    expect(e.sessionCount()).toBe(0);
    expect(con.ports[0]!.closed).toBe(true);
    expect(e.solStatus().active).toBe(false);
  });

  test.each([
    ["no console source configured", {}, (_c: EchoConsole) => {}, [0x01, 0x01, 0xc6, 0, 0, 0], 0x81],
    ["the console cannot be opened now", { sol: true }, (c: EchoConsole) => (c.available = false), [0x01, 0x01, 0xc6, 0, 0, 0], 0x81],
    ["no encryption asked while parameter 2 forces it", { sol: true }, () => {}, [0x01, 0x01, 0x40, 0, 0, 0], 0x84],
    ["encryption without authentication", { sol: true }, () => {}, [0x01, 0x01, 0x80, 0, 0, 0], 0xcc],
    ["no authentication while parameter 2 forces it", { sol: true }, () => {}, [0x01, 0x01, 0x00, 0, 0, 0], 0x84],
    ["instance 2", { sol: true }, () => {}, [0x01, 0x02, 0xc6, 0, 0, 0], 0xcc],
    ["payload type IPMI", { sol: true }, () => {}, [0x00, 0x01, 0xc6, 0, 0, 0], 0xcc],
    ["five data bytes", { sol: true }, () => {}, [0x01, 0x01, 0xc6, 0, 0], 0xc7],
  ] as [string, { sol?: boolean }, (c: EchoConsole) => void, number[], number][])("activation refused: %s → 0x%s", async (_what, o, prep, data, cc) => {
    const con = echoConsole();
    prep(con);
    const e = engineWith(o.sol ? { sol: con } : {});
    const s = await solSession(e, ADMIN);
    expect((await s.request(0x06, 0x48, data))?.cc).toBe(cc);
    expect(e.solStatus().active).toBe(false);
  });

  test("with force-encryption off, a payload activated without encryption travels authenticated but in clear", async () => {
    const con = echoConsole({ echo: false });
    const e = engineWith({ sol: con });
    const s = await solSession(e, ADMIN);
    expect((await s.request(0x0c, 0x21, [0x0e, 2, 0x42]))?.cc).toBe(0);
    expect((await s.request(0x06, 0x48, [0x01, 0x01, 0x40, 0, 0, 0]))?.cc).toBe(0);
    con.last()!.emit("plain");
    await until(() => s.path.sent.length > 0);
    const d = s.path.sent[0]!;
    // Payload type byte: authenticated (0x40), not encrypted, SOL (0x01); the text is visible.
    expect(d[5]).toBe(0x41);
    expect(Buffer.from(d).includes(Buffer.from("plain"))).toBe(true);
    e.stop();
  });

  test("SOL privilege (parameter 2) applies to activation; Set SOL Config needs administrator", async () => {
    const e = engineWith({ sol: echoConsole() });
    const admin = await solSession(e, ADMIN);
    const oper = await solSession(e, OPERATOR, OTHER);
    expect((await oper.request(0x0c, 0x21, [0x0e, 2, 0xc4]))?.cc).toBe(0xd4);
    expect((await admin.request(0x0c, 0x21, [0x0e, 2, 0xc4]))?.cc).toBe(0);
    expect((await oper.activate())?.cc).toBe(0xd4);
    expect((await admin.activate())?.cc).toBe(0);
    e.stop();
  });

  test.each([
    ["Get Channel Payload Support, with a console", true, [0x06, 0x4e, [0x0e]], 0, "03003f0000000000"],
    ["Get Channel Payload Support, without", false, [0x06, 0x4e, [0x0e]], 0, "01003f0000000000"],
    ["Get Channel Payload Version SOL", true, [0x06, 0x4f, [0x0e, 0x01]], 0, "10"],
    ["Get Channel Payload Version SOL without a console", false, [0x06, 0x4f, [0x0e, 0x01]], 0x80, ""],
    ["Get Channel Payload Version OEM", true, [0x06, 0x4f, [0x01, 0x02]], 0x80, ""],
    ["Get Channel Payload Support, channel 5", true, [0x06, 0x4e, [0x05]], 0xcc, ""],
    ["Get Payload Activation Status, nothing active", true, [0x06, 0x4a, [0x01]], 0, "010000"],
    ["Deactivate, nothing active", true, [0x06, 0x49, [0x01, 0x01, 0, 0, 0, 0]], 0x80, ""],
    ["Deactivate without a console", false, [0x06, 0x49, [0x01, 0x01, 0, 0, 0, 0]], 0x81, ""],
  ] as [string, boolean, [number, number, number[]], number, string][])("%s", async (_what, withSol, [netFn, cmd, data], cc, hex) => {
    const e = engineWith(withSol ? { sol: echoConsole() } : {});
    const s = await solSession(e, ADMIN);
    const r = await s.request(netFn, cmd, data);
    expect(r?.cc).toBe(cc);
    expect(toHex(r!.data)).toBe(hex);
  });
});

describe("SOL configuration parameters", () => {
  test.each([
    ["get set-in-progress", 0x22, [0x0e, 0, 0, 0], 0, "1100"],
    ["get enable", 0x22, [0x01, 1, 0, 0], 0, "1101"],
    ["get authentication (force both, user)", 0x22, [0x0e, 2, 0, 0], 0, "11c2"],
    ["get accumulate interval/threshold", 0x22, [0x0e, 3, 0, 0], 0, "110c60"],
    ["get retry", 0x22, [0x0e, 4, 0, 0], 0, "110732"],
    ["get volatile bit rate", 0x22, [0x0e, 6, 0, 0], 0, "110a"],
    ["get payload channel", 0x22, [0x0e, 7, 0, 0], 0, "1101"],
    ["get payload port (the datagram's local port)", 0x22, [0x0e, 8, 0, 0], 0, "115618"],
    ["get revision only", 0x22, [0x8e, 3, 0, 0], 0, "11"],
    ["get parameter 9", 0x22, [0x0e, 9, 0, 0], 0x80, ""],
    ["get OEM parameter 0xC0", 0x22, [0x0e, 0xc0, 0, 0], 0x80, ""],
    ["get on channel 3", 0x22, [0x03, 1, 0, 0], 0xcc, ""],
    ["get, three bytes", 0x22, [0x0e, 1, 0], 0xc7, ""],
    ["set payload channel", 0x21, [0x0e, 7, 1], 0x82, ""],
    ["set payload port", 0x21, [0x0e, 8, 0x6f, 0x02], 0x82, ""],
    ["set parameter 9", 0x21, [0x0e, 9, 0], 0x80, ""],
    ["set accumulate interval 0", 0x21, [0x0e, 3, 0, 10], 0xcc, ""],
    ["set threshold 0", 0x21, [0x0e, 3, 10, 0], 0xcc, ""],
    ["set retry count 8", 0x21, [0x0e, 4, 8, 10], 0xcc, ""],
    ["set bit rate code 5", 0x21, [0x0e, 5, 0x05], 0xcc, ""],
    ["set privilege callback", 0x21, [0x0e, 2, 0xc1], 0xcc, ""],
    ["set enable with two bytes", 0x21, [0x0e, 1, 1, 0], 0xc7, ""],
    ["set set-in-progress 3", 0x21, [0x0e, 0, 3], 0xcc, ""],
  ] as [string, number, number[], number, string][])("%s → 0x%s", async (_what, cmd, data, cc, hex) => {
    const e = engineWith({ sol: echoConsole() });
    const s = await solSession(e, ADMIN);
    const r = await s.request(0x0c, cmd, data);
    expect(r?.cc).toBe(cc);
    expect(toHex(r!.data)).toBe(hex);
  });

  test("disabling SOL (parameter 1) ends the active payload and tells its console", async () => {
    const { e, con, s } = await activeSol();
    const other = await solSession(e, ADMIN, OTHER);
    expect((await other.request(0x0c, 0x21, [0x0e, 1, 0]))?.cc).toBe(0);
    expect(e.solStatus().active).toBe(false);
    expect(con.last()!.closed).toBe(true);
    expect(s.drain().map((p) => p.flags & SolBmcStatus.inactive)).toEqual([SolBmcStatus.inactive]);
  });

  test("without a console source, parameter 1 reads disabled", async () => {
    const s = await solSession(engineWith(), ADMIN);
    expect(toHex((await s.request(0x0c, 0x22, [0x0e, 1, 0, 0]))!.data)).toBe("1100");
  });

  test("set then get: values stick; set-in-progress can be claimed once", async () => {
    const e = engineWith({ sol: echoConsole() });
    const s = await solSession(e, ADMIN);
    const set = async (data: number[]) => (await s.request(0x0c, 0x21, [0x0e, ...data]))?.cc;
    const get = async (p: number) => toHex((await s.request(0x0c, 0x22, [0x0e, p, 0, 0]))!.data);
    expect(await set([0, 1])).toBe(0);
    // (Something in between, or the engine takes the second Set for a client retry.)
    expect(await get(0)).toBe("1101");
    expect(await set([0, 1])).toBe(0x81);
    expect(await set([3, 20, 50])).toBe(0);
    expect(await set([4, 3, 100])).toBe(0);
    expect(await set([2, 0x03])).toBe(0);
    expect(await set([5, 0x07])).toBe(0);
    expect(await set([0, 2])).toBe(0);
    expect(await set([0, 0])).toBe(0);
    expect([await get(0), await get(2), await get(3), await get(4), await get(5)]).toEqual(["1100", "1103", "111432", "110364", "1107"]);
    // Disabling SOL refuses activation with "payload type disabled".
    expect(await set([1, 0])).toBe(0);
    expect((await s.activate())?.cc).toBe(0x81);
  });
});

describe("SOL packets, BMC → console", () => {
  test("output goes out with sequence numbers 1..15 then 1 again, one packet in flight, each after the ACK", async () => {
    const { e, con, s } = await activeSol();
    const seqs: number[] = [];
    for (let i = 0; i < 16; i++) {
      con.last()!.emit(`line ${i}\r\n`);
      await until(() => s.path.sent.length > 0, 2000, "a SOL packet");
      const [p] = s.drain();
      expect(str(p!.data)).toBe(`line ${i}\r\n`);
      expect(p!.ackSequence).toBe(0);
      seqs.push(p!.sequence);
      expect(await s.sol({ ackSequence: p!.sequence, acceptedCount: p!.data.length })).toBeUndefined();
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1]);
    expect(e.solStatus().bytesOut).toBe(e.stats().solBytesOut);
    expect(e.stats().solRetransmits).toBe(0);
    e.stop();
  });

  test("output held while a packet is in flight goes out together after the ACK", async () => {
    const { e, con, s } = await activeSol({ interval: 50 });
    con.last()!.emit("a");
    await until(() => s.path.sent.length > 0);
    const [p1] = s.drain();
    con.last()!.emit("b");
    con.last()!.emit("c");
    await sleep(30);
    expect(s.path.sent.length).toBe(0);
    await s.sol({ ackSequence: p1!.sequence, acceptedCount: 1 });
    await until(() => s.path.sent.length > 0);
    expect(s.drain().map((p) => [p.sequence, str(p.data)])).toEqual([[2, "bc"]]);
    e.stop();
  });

  test("an unanswered packet is resent per the retry count, the same sequence and data, then given up", async () => {
    const { e, con, s } = await activeSol({ retries: 2 });
    con.last()!.emit("lost");
    await until(() => e.stats().solGiveUps === 1, 2000, "give-up");
    const sent = s.drain();
    expect(sent.map((p) => [p.sequence, str(p.data)])).toEqual([
      [1, "lost"],
      [1, "lost"],
      [1, "lost"],
    ]);
    expect(e.stats().solRetransmits).toBe(2);
    con.last()!.emit("next");
    await until(() => s.path.sent.length > 0);
    expect(s.drain().map((p) => [p.sequence, str(p.data)])).toEqual([[2, "next"]]);
    e.stop();
  });

  test("a partial ACK sends the rest under a new sequence number", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.emit("abcdef");
    await until(() => s.path.sent.length > 0);
    const [p] = s.drain();
    await s.sol({ ackSequence: p!.sequence, acceptedCount: 2 });
    await until(() => s.path.sent.length > 0);
    expect(s.drain().map((q) => [q.sequence, str(q.data)])).toEqual([[2, "cdef"]]);
    expect(e.stats().solBytesOut).toBe(2);
    e.stop();
  });

  test("a NACK makes the BMC offer the unaccepted rest again later", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.emit("wait");
    await until(() => s.path.sent.length > 0);
    const [p] = s.drain();
    await s.sol({ ackSequence: p!.sequence, acceptedCount: 0, flags: SolConsoleOp.nack });
    await until(() => s.path.sent.length > 0);
    expect(s.drain().map((q) => [q.sequence, str(q.data)])).toEqual([[2, "wait"]]);
    e.stop();
  });

  test("output longer than the payload size is split into 251-character packets", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.emit("x".repeat(600));
    const lengths: number[] = [];
    while (lengths.reduce((a, b) => a + b, 0) < 600) {
      await until(() => s.path.sent.length > 0);
      const [p] = s.drain();
      lengths.push(p!.data.length);
      await s.sol({ ackSequence: p!.sequence, acceptedCount: p!.data.length });
    }
    expect(lengths).toEqual([251, 251, 98]);
    e.stop();
  });

  test("the console's flush-outbound drops the packet in flight and what is queued", async () => {
    const { e, con, s } = await activeSol({ retries: 7 });
    con.last()!.emit("old");
    await until(() => s.path.sent.length > 0);
    s.drain();
    con.last()!.emit("queued");
    const ack = await s.sol({ sequence: 1, flags: SolConsoleOp.flushOutbound });
    expect(ack).toMatchObject({ sequence: 0, ackSequence: 1, acceptedCount: 0 });
    await sleep(60);
    expect(s.drain()).toEqual([]);
    e.stop();
  });
});

describe("SOL packets, console → BMC", () => {
  test("keystrokes are ACKed with the count accepted; a repeated sequence number is re-ACKed, not delivered twice", async () => {
    const { e, con, s } = await activeSol();
    const ack = await s.sol({ sequence: 1, data: new Uint8Array(Buffer.from("ls\r")) });
    expect(ack).toMatchObject({ sequence: 0, ackSequence: 1, acceptedCount: 3, flags: 0 });
    expect(await s.sol({ sequence: 1, data: new Uint8Array(Buffer.from("ls\r")) })).toMatchObject({ ackSequence: 1, acceptedCount: 3 });
    // The same datagram again (same session sequence number): re-ACKed only.
    const seq = s.raw.seq;
    expect(await s.sol({ sequence: 1, data: new Uint8Array(Buffer.from("ls\r")) }, seq)).toMatchObject({ ackSequence: 1, acceptedCount: 3 });
    expect(await s.sol({ sequence: 2, data: new Uint8Array(Buffer.from("pwd\r")) })).toMatchObject({ ackSequence: 2, acceptedCount: 4 });
    expect(con.last()!.received()).toBe("ls\rpwd\r");
    expect(e.stats().solBytesIn).toBe(7);
    expect(e.solStatus().bytesIn).toBe(7);
    e.stop();
  });

  test("a data-less packet with a sequence number (ipmitool's SOL keepalive) is ACKed with 0", async () => {
    const { e, con, s } = await activeSol();
    expect(await s.sol({ sequence: 1 })).toMatchObject({ ackSequence: 1, acceptedCount: 0 });
    expect(con.last()!.received()).toBe("");
    expect(con.last()!.breaks).toEqual([]);
    e.stop();
  });

  test("Generate BREAK reaches the serial port once, after the packet's characters; a resent packet is no second break", async () => {
    const { e, con, s } = await activeSol();
    expect(await s.sol({ sequence: 1, data: new Uint8Array(Buffer.from("ab")) })).toMatchObject({ ackSequence: 1, acceptedCount: 2 });
    expect(await s.sol({ sequence: 2, flags: SolConsoleOp.generateBreak, data: new Uint8Array(Buffer.from("c")) })).toMatchObject({ ackSequence: 2, acceptedCount: 1 });
    expect(await s.sol({ sequence: 2, flags: SolConsoleOp.generateBreak, data: new Uint8Array(Buffer.from("c")) })).toMatchObject({ ackSequence: 2, acceptedCount: 1 });
    expect(await s.sol({ sequence: 3, flags: SolConsoleOp.generateBreak })).toMatchObject({ ackSequence: 3, acceptedCount: 0 });
    expect(con.last()!.received()).toBe("abc");
    expect(con.last()!.breaks).toEqual([3, 3]);
    expect(e.stats()).toMatchObject({ solBreaks: 2, solBreaksDropped: 0 });
    e.stop();
  });

  test.each([
    { name: "a port that cannot carry a break", breaks: false, hangUp: false },
    { name: "a port that is gone", breaks: true, hangUp: true },
  ])("Generate BREAK on $name is ACKed, dropped and counted", async ({ breaks, hangUp }) => {
    const con = echoConsole({ echo: false, breaks });
    const e = engineWith({ sol: con });
    const s = await solSession(e, ADMIN);
    expect((await s.activate())?.cc).toBe(0);
    if (hangUp) con.last()!.hangUp();
    expect(await s.sol({ sequence: 1, flags: SolConsoleOp.generateBreak })).toMatchObject({ ackSequence: 1 });
    expect(con.last()!.breaks).toEqual([]);
    expect(e.stats()).toMatchObject({ solBreaks: 1, solBreaksDropped: 1 });
    e.stop();
  });

  test("keepalives go through while SOL is active: Get Device ID, Get Channel Payload Version", async () => {
    const { e, s } = await activeSol();
    expect((await s.request(0x06, 0x01, []))?.cc).toBe(0);
    expect(toHex((await s.request(0x06, 0x4f, [0x0e, 0x01]))!.data)).toBe("10");
    expect(e.solStatus().active).toBe(true);
    e.stop();
  });

  test("SOL packets in a session without the payload are dropped; bad integrity is dropped", async () => {
    const { e, s } = await activeSol();
    const other = await solSession(e, ADMIN, OTHER);
    expect(await other.sol({ sequence: 1, data: new Uint8Array([0x41]) })).toBeUndefined();
    const before = e.stats().dropped;
    s.raw.sec = { ...s.raw.sec, k1: new Uint8Array(32) };
    expect(await s.sol({ sequence: 1, data: new Uint8Array([0x41]) })).toBeUndefined();
    expect(e.stats().dropped).toBe(before + 1);
    e.stop();
  });

  test("a serial port that hangs up leaves SOL active with status 'inactive', keystrokes are taken and dropped", async () => {
    const { e, con, s } = await activeSol();
    con.last()!.hangUp("vm powered off");
    const [notice] = s.drain();
    expect(notice!.flags & 0x30).toBe(SolBmcStatus.inactive | SolBmcStatus.transferUnavailable);
    const ack = await s.sol({ sequence: 1, ackSequence: notice!.sequence, data: new Uint8Array([0x41, 0x42]) });
    expect(ack).toMatchObject({ ackSequence: 1, acceptedCount: 2 });
    expect(ack!.flags & SolBmcStatus.inactive).toBe(SolBmcStatus.inactive);
    expect(e.solStatus()).toMatchObject({ active: true, consoleOpen: false, bytesIn: 0 });
    expect(e.activeSessionCount()).toBe(1);
    e.stop();
  });
});

describe("bad input", () => {
  test("random SOL payloads, sealed with the session's keys, never break the engine or the link", async () => {
    const { e, con, s } = await activeSol();
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) & 0xff;
    for (let i = 0; i < 300; i++) {
      const body = new Uint8Array(rnd() % 24).map(() => rnd());
      const d = sealRmcpPlus(PayloadType.sol, s.raw.bmcId, ++s.raw.seq, body, s.raw.sec);
      await e.handleDatagram(d, s.source, s.path);
    }
    // Still a working link: after sequence 3 (maybe a repeat of a fuzzed one), 4 is new for sure.
    await s.sol({ sequence: 3, data: new Uint8Array([0x5a]) });
    const ack = await s.sol({ sequence: 4, data: new Uint8Array([0x59]) });
    expect(ack).toMatchObject({ sequence: 0, ackSequence: 4, acceptedCount: 1 });
    expect(con.last()!.received().endsWith("Y")).toBe(true);
    expect(e.solStatus().active).toBe(true);
    e.stop();
  });
});

describe("timers", () => {
  test("after stop nothing is sent and the console port is closed", async () => {
    const { e, con, s } = await activeSol({ retries: 7 });
    con.last()!.emit("pending");
    await until(() => s.path.sent.length > 0);
    e.stop();
    s.drain();
    con.last()!.emit("after");
    await sleep(80);
    expect(s.path.sent.length).toBe(0);
    expect(con.last()!.closed).toBe(true);
  });
});
