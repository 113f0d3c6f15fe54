// The session engine on its own: sessionless commands, Open Session negotiation, RAKP
// status codes, session table (cap, idle expiry, Close Session), privilege checks,
// replay window and response cache. Session traffic uses our client over loopback UDP.
import { afterEach, describe, expect, test } from "bun:test";
import { DeadlineError, IpmiAuthError, IpmiCompletionError } from "../../src/errors.ts";
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { RakpStatus } from "../../src/ipmi/codes/rakp-status.ts";
import { IpmiSessionEngine, type EngineOptions } from "../../src/ipmi/server/engine.ts";
import { toHex } from "../../src/ipmi/wire/bytes.ts";
import { packet } from "../../src/ipmi/wire/packet.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { ADMIN, OPERATOR, TEST_GUID, loseFirstControlReply, startEngine, type EngineUnderTest } from "../support/ipmi/peers.ts";
import { SOURCE, openSession, rakp2Verifies, rawSession, send, sendRakp1, sendRakp3, sessionless } from "../support/ipmi/raw.ts";

function engineWith(over: Partial<EngineOptions> = {}): IpmiSessionEngine {
  const ch = fakeChassis(TEST_GUID);
  return new IpmiSessionEngine({ users: [ADMIN, OPERATOR], guid: TEST_GUID, handler: ch.handler, ...over });
}

const running: EngineUnderTest[] = [];
const clients: IpmiClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close(200);
  for (const e of running.splice(0)) await e.close();
});

async function engineOverUdp(over: Partial<EngineOptions> = {}, chassisOpts: { delayMs?: number } = {}): Promise<EngineUnderTest> {
  const e = await startEngine(over, chassisOpts);
  running.push(e);
  return e;
}

async function connect(e: EngineUnderTest, over: Partial<Parameters<typeof IpmiClient.connect>[0]> = {}): Promise<IpmiClient> {
  const c = await IpmiClient.connect({ host: "127.0.0.1", port: e.port, username: ADMIN.name, password: ADMIN.password, retransmitMs: 200, connectTimeoutMs: 3000, commandTimeoutMs: 3000, ...over });
  clients.push(c);
  return c;
}

describe("sessionless", () => {
  test("an ASF presence ping gets the 28-byte pong with the ping's tag", async () => {
    const e = engineWith();
    const reply = await e.handleDatagram(new Uint8Array([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x5a, 0x00, 0x00]), SOURCE);
    expect(toHex(reply!)).toBe("0600ff06000011be405a0010000011be000000008100000000000000");
  });

  test.each([
    ["ipmi15", "ipmi15"],
    ["rmcp+", "rmcp+"],
  ] as const)("Get Channel Auth Capabilities asked %s-framed is answered %s-framed", async (framing, expected) => {
    const r = await sessionless(engineWith(), framing, 0x06, 0x38, [0x8e, 0x04]);
    expect(r?.framing).toBe(expected);
    expect(r?.message.cc).toBe(0);
    expect(toHex(r!.message.data)).toBe("0180040200000000");
  });

  test.each([
    ["v2 data, RMCP+ only", {}, [0x8e, 0x04], "0180040200000000"],
    ["v2 data, with IPMI 1.5 MD5", { ipmi15: true }, [0x8e, 0x04], "0184040300000000"],
    ["1.5 request, with MD5", { ipmi15: true }, [0x0e, 0x04], "0104040000000000"],
    ["1.5 request, insecure auth on", { ipmi15: true, allowInsecureAuth: true }, [0x0e, 0x04], "0115040000000000"],
    ["channel 2 configured and asked by number", { channel: 2 }, [0x82, 0x04], "0280040200000000"],
    ["anonymous (null user, no password) login", { users: [{ name: "", password: "", maxPrivilege: 2 as const }] }, [0x8e, 0x02], "0180010200000000"],
  ] as [string, Partial<EngineOptions>, number[], string][])("auth capabilities: %s", async (_what, over, data, hex) => {
    const r = await sessionless(engineWith(over), "ipmi15", 0x06, 0x38, data);
    expect(r?.message.cc).toBe(0);
    expect(toHex(r!.message.data)).toBe(hex);
  });

  test.each([
    ["another channel", [0x85, 0x04], 0xcc],
    ["privilege 0", [0x8e, 0x00], 0xcc],
    ["one byte", [0x8e], 0xc7],
  ])("auth capabilities for %s → 0x%s", async (_what, data, cc) => {
    const r = await sessionless(engineWith(), "ipmi15", 0x06, 0x38, data);
    expect(r?.message.cc).toBe(cc);
  });

  test("Get Channel Cipher Suites lists one record per offered suite, 16 bytes per list index", async () => {
    const e = engineWith();
    const first = await sessionless(e, "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x80]);
    expect(first?.framing).toBe("rmcp+");
    expect(toHex(first!.message.data)).toBe("01c0110344" + "81c003014181");
    const second = await sessionless(e, "ipmi15", 0x06, 0x54, [0x0e, 0x00, 0x81]);
    expect(second?.framing).toBe("ipmi15");
    expect(toHex(second!.message.data)).toBe("01");
    const big = engineWith({ cipherSuites: [17, 16, 15, 3, 2, 1] });
    const b0 = await sessionless(big, "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x80]);
    const b1 = await sessionless(big, "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x81]);
    expect(b0!.message.data.length).toBe(17);
    expect(b1!.message.data.length).toBe(1 + 30 - 16);
    const algs = await sessionless(e, "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x00]);
    expect(toHex(algs!.message.data)).toBe("01030144418" + "1");
  });

  test("suite 0 is never offered unless insecure auth is allowed", async () => {
    const closed = await sessionless(engineWith({ cipherSuites: [3, 0] }), "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x80]);
    expect(toHex(closed!.message.data)).toBe("01c003014181");
    const open = await sessionless(engineWith({ cipherSuites: [3, 0], allowInsecureAuth: true }), "rmcp+", 0x06, 0x54, [0x0e, 0x00, 0x80]);
    expect(toHex(open!.message.data)).toBe("01c003014181c000004080");
  });

  test("a sessionless command that needs a session gets 0xD4; a response netFn gets 0xC1", async () => {
    const e = engineWith();
    expect((await sessionless(e, "ipmi15", 0x00, 0x01, []))?.message.cc).toBe(0xd4);
    expect((await sessionless(e, "rmcp+", 0x07, 0x01, []))?.message.cc).toBe(0xc1);
  });

  test("Get Session Challenge is refused when IPMI 1.5 is off, and for unknown users", async () => {
    const name = (s: string) => [...new TextEncoder().encode(s.padEnd(16, "\0"))];
    expect((await sessionless(engineWith(), "ipmi15", 0x06, 0x39, [0x02, ...name("admin")]))?.message.cc).toBe(0xc1);
    const on = engineWith({ ipmi15: true });
    expect((await sessionless(on, "ipmi15", 0x06, 0x39, [0x02, ...name("nobody")]))?.message.cc).toBe(0x81);
    expect((await sessionless(on, "ipmi15", 0x06, 0x39, [0x04, ...name("admin")]))?.message.cc).toBe(0xcc);
    const ok = await sessionless(on, "ipmi15", 0x06, 0x39, [0x02, ...name("admin")]);
    expect(ok?.message.cc).toBe(0);
    expect(ok!.message.data.length).toBe(20);
    expect(on.sessionCount()).toBe(1);
  });
});

describe("Open Session negotiation", () => {
  const cases: [string, Partial<EngineOptions>, { auth?: number; integrity?: number; confidentiality?: number; privilege?: number }, number | { suite: [number, number, number]; priv: number }][] = [
    ["suite 17 as proposed", {}, { auth: 3, integrity: 4, confidentiality: 1 }, { suite: [3, 4, 1], priv: 4 }],
    ["suite 3 as proposed (not the better 17)", {}, { auth: 1, integrity: 1, confidentiality: 1 }, { suite: [1, 1, 1], priv: 4 }],
    ["wildcards pick the best offered", {}, {}, { suite: [3, 4, 1], priv: 4 }],
    ["wildcard order follows the offer", { cipherSuites: [3, 17] }, {}, { suite: [1, 1, 1], priv: 4 }],
    ["partial wildcard", {}, { auth: 1 }, { suite: [1, 1, 1], priv: 4 }],
    ["privilege 0 means the highest", {}, { auth: 3, integrity: 4, confidentiality: 1, privilege: 0 }, { suite: [3, 4, 1], priv: 4 }],
    ["operator limit kept", {}, { auth: 1, integrity: 1, confidentiality: 1, privilege: 3 }, { suite: [1, 1, 1], priv: 3 }],
    ["suite 0 refused", {}, { auth: 0, integrity: 0, confidentiality: 0 }, RakpStatus.invalidAuthenticationAlgorithm],
    ["suite 0 when allowed", { allowInsecureAuth: true, cipherSuites: [17, 3, 0] }, { auth: 0, integrity: 0, confidentiality: 0 }, { suite: [0, 0, 0], priv: 4 }],
    ["17 not offered", { cipherSuites: [3] }, { auth: 3, integrity: 4, confidentiality: 1 }, RakpStatus.invalidAuthenticationAlgorithm],
    ["mixed algorithms", {}, { auth: 3, integrity: 1, confidentiality: 1 }, RakpStatus.noCipherSuiteMatch],
    ["unknown integrity", {}, { auth: 1, integrity: 2, confidentiality: 1 }, RakpStatus.invalidIntegrityAlgorithm],
    ["unknown confidentiality", {}, { auth: 1, integrity: 1, confidentiality: 2 }, RakpStatus.invalidConfidentialityAlgorithm],
    ["privilege 6", {}, { auth: 1, integrity: 1, confidentiality: 1, privilege: 6 }, RakpStatus.invalidRole],
    ["OEM privilege", {}, { auth: 1, integrity: 1, confidentiality: 1, privilege: 5 }, RakpStatus.unauthorizedRoleOrPrivilege],
  ];
  test.each(cases)("%s", async (_what, over, proposal, expected) => {
    const e = engineWith(over);
    const r = await openSession(e, proposal);
    if (typeof expected === "number") {
      expect(r.status).toBe(expected);
      expect(e.sessionCount()).toBe(0);
    } else {
      expect(r.status).toBe(0);
      expect([r.auth, r.integrity, r.confidentiality]).toEqual(expected.suite);
      expect(r.maxPrivilege).toBe(expected.priv);
      expect(r.remoteConsoleSessionId).toBe(0xa1b2c3d4);
      expect(r.managedSystemSessionId).not.toBe(0);
      expect(e.sessionCount()).toBe(1);
    }
  });

  test("a retransmitted Open Session Request gets the same session, not a second slot", async () => {
    const e = engineWith();
    const a = await openSession(e, { auth: 1, integrity: 1, confidentiality: 1 });
    const b = await openSession(e, { auth: 1, integrity: 1, confidentiality: 1 });
    expect(b.managedSystemSessionId).toBe(a.managedSystemSessionId);
    expect(e.sessionCount()).toBe(1);
  });
});

describe("RAKP status codes (never a silent drop)", () => {
  test.each([
    ["unknown user", "nobody", 0x14, RakpStatus.unauthorizedName],
    ["operator asking for administrator", OPERATOR.name, 0x14, RakpStatus.unauthorizedRoleOrPrivilege],
    ["role-based lookup above the user's role", OPERATOR.name, 0x04, RakpStatus.unauthorizedRoleOrPrivilege],
    ["role 0", ADMIN.name, 0x10, RakpStatus.invalidRole],
    ["reserved role bits", ADMIN.name, 0x84, RakpStatus.invalidRole],
  ])("RAKP1 for %s → RAKP2 status and the slot is freed", async (_what, user, role, status) => {
    const e = engineWith();
    const o = await openSession(e, { auth: 1, integrity: 1, confidentiality: 1 });
    const r = await sendRakp1(e, o.managedSystemSessionId, user, role);
    expect(r.rakp2.status).toBe(status);
    expect(e.sessionCount()).toBe(0);
    expect(e.stats().authFailures).toBe(1);
  });

  test("RAKP1 naming no open session → invalid session ID", async () => {
    const r = await sendRakp1(engineWith(), 0x12345678, ADMIN.name, 0x14);
    expect(r.rakp2.status).toBe(RakpStatus.invalidSessionId);
  });

  test("RAKP1 from another address than the Open Session → invalid session ID", async () => {
    const e = engineWith();
    const o = await openSession(e, { auth: 1, integrity: 1, confidentiality: 1 });
    const r = await sendRakp1(e, o.managedSystemSessionId, ADMIN.name, 0x14, { address: "127.0.0.2", port: 40000 });
    expect(r.rakp2.status).toBe(RakpStatus.invalidSessionId);
  });

  test.each([
    [3, 1],
    [17, 3],
  ])("suite %i: RAKP3 with a wrong code → RAKP4 invalid integrity check value, slot freed", async (_suite, authAlg) => {
    const e = engineWith();
    const o = await openSession(e, authAlg === 3 ? { auth: 3, integrity: 4, confidentiality: 1 } : { auth: 1, integrity: 1, confidentiality: 1 });
    const r = await sendRakp1(e, o.managedSystemSessionId, ADMIN.name, 0x14);
    expect(r.rakp2.status).toBe(0);
    expect(rakp2Verifies(r, authAlg, ADMIN.password)).toBe(true);
    expect(rakp2Verifies(r, authAlg, "wrong")).toBe(false);
    const m4 = await sendRakp3(e, r, authAlg, "wrong");
    expect(m4.status).toBe(RakpStatus.invalidIntegrityCheckValue);
    expect(e.sessionCount()).toBe(0);
  });

  test("a good RAKP3 activates the session; a retransmitted RAKP3 gets RAKP4 again", async () => {
    const e = engineWith();
    const o = await openSession(e, { auth: 3, integrity: 4, confidentiality: 1 });
    const r = await sendRakp1(e, o.managedSystemSessionId, ADMIN.name, 0x14);
    const a = await sendRakp3(e, r, 3, ADMIN.password);
    const b = await sendRakp3(e, r, 3, ADMIN.password);
    expect(a.status).toBe(0);
    expect(a.integrityCheckValue.length).toBe(16);
    expect(toHex(b.integrityCheckValue)).toBe(toHex(a.integrityCheckValue));
    expect(e.activeSessionCount()).toBe(1);
    expect(e.stats().sessionsOpened).toBe(1);
  });
});

describe("sessions over UDP", () => {
  test.each([[[17]], [[3]]])("suite %p: power on, status, off", async (suites) => {
    const e = await engineOverUdp();
    const c = await connect(e, { cipherSuites: suites });
    expect(c.cipherSuite.id).toBe(suites[0]!);
    expect((await c.chassisStatus()).powerOn).toBe(false);
    await c.chassisControl("on");
    expect((await c.chassisStatus()).powerOn).toBe(true);
    await c.chassisControl("off");
    expect(e.chassis.power.on).toBe(false);
    expect(toHex(c.bmcGuid)).toBe(toHex(TEST_GUID));
  });

  test("Close Session frees the slot", async () => {
    const e = await engineOverUdp();
    const c = await connect(e);
    expect(e.engine.sessionCount()).toBe(1);
    await c.close();
    expect(e.engine.sessionCount()).toBe(0);
    expect(e.engine.stats().sessionsClosed).toBe(1);
  });

  test("the session cap refuses one more with 'insufficient resources'; pending sessions give way", async () => {
    const e = await engineOverUdp({ maxSessions: 2 });
    await connect(e);
    // Unauthenticated Open Sessions fill the remaining slot but must not lock users out.
    for (let i = 0; i < 5; i++) await openSession(e.engine, { auth: 1, integrity: 1, confidentiality: 1, consoleId: 100 + i }, { address: "127.0.0.9", port: 1000 + i });
    await connect(e);
    const err = await connect(e).catch((x) => x);
    expect(err).toBeInstanceOf(IpmiAuthError);
    expect((err as IpmiAuthError).status).toBe(RakpStatus.insufficientResources);
    expect(e.engine.activeSessionCount()).toBe(2);
  });

  test("an idle session expires after sessionTimeoutMs and then gets no answer", async () => {
    let now = 1_000_000;
    const e = await engineOverUdp({ sessionTimeoutMs: 60_000, now: () => now });
    const c = await connect(e, { commandTimeoutMs: 600 });
    await c.chassisStatus();
    now += 59_000;
    expect(e.engine.sessionCount()).toBe(1);
    await c.chassisStatus(); // activity resets the idle clock
    now += 59_000;
    expect(e.engine.sessionCount()).toBe(1);
    now += 2_000;
    expect(e.engine.sessionCount()).toBe(0);
    expect(e.engine.stats().sessionsExpired).toBe(1);
    const err = await c.chassisStatus().catch((x) => x);
    expect(err).toBeInstanceOf(DeadlineError);
  });

  test("privileges: per-user limit, per-command level, Set Session Privilege Level", async () => {
    const e = await engineOverUdp();
    const op = await connect(e, { username: OPERATOR.name, password: OPERATOR.password, privilege: 3 });
    await op.chassisControl("on");
    const cold = await op.rawCommand(0x06, 0x02);
    expect(cold.cc).toBe(0xd4);
    expect((await op.rawCommand(0x06, 0x3b, new Uint8Array([4]))).cc).toBe(0x80);
    const user = await connect(e, { privilege: 2 });
    const err = await user.chassisControl("off").catch((x) => x);
    expect(err).toBeInstanceOf(IpmiCompletionError);
    expect((err as IpmiCompletionError).completionCode).toBe(0xd4);
    expect((await user.rawCommand(0x06, 0x3b, new Uint8Array([3]))).cc).toBe(0x81);
    expect(e.chassis.power.on).toBe(true);
    // An operator cannot open an administrator session at all.
    const refused = await connect(e, { username: OPERATOR.name, password: OPERATOR.password, privilege: 4 }).catch((x) => x);
    expect((refused as IpmiAuthError).status).toBe(RakpStatus.unauthorizedRoleOrPrivilege);
  });

  test("unknown commands → 0xC1 from the handler; a throwing handler → 0xFF; short data → 0xC7", async () => {
    const e = await engineOverUdp({
      handler: (req) => {
        if (req.netFn === 0x30) throw new Error("boom");
        return { cc: 0xc1 };
      },
    });
    const c = await connect(e);
    expect((await c.rawCommand(0x2c, 0x00, new Uint8Array([0]))).cc).toBe(0xc1);
    expect((await c.rawCommand(0x30, 0x01)).cc).toBe(0xff);
    expect((await c.rawCommand(0x06, 0x3b)).cc).toBe(0xc7);
  });

  test("a replayed datagram is answered from the cache, never executed twice", async () => {
    const e = await engineOverUdp();
    const inbound: Uint8Array[] = [];
    const orig = e.engine.handleDatagram.bind(e.engine);
    e.engine.handleDatagram = (buf, source) => {
      inbound.push(buf.slice());
      return orig(buf, source);
    };
    const c = await connect(e);
    const before = inbound.length;
    await c.chassisControl("cycle");
    expect(e.chassis.controls).toEqual([2]);
    const controlDatagram = inbound[before]!;
    const clientPort = (c as unknown as { t: { localPort: number } }).t.localPort;
    const replay = await orig(controlDatagram, { address: "127.0.0.1", port: clientPort });
    expect(replay).toBeDefined();
    expect(packet.decode(replay!).kind).toBe("rmcp+");
    expect(e.chassis.controls).toEqual([2]);
    expect(e.engine.stats().cacheHits).toBe(1);
    // From another port (an attacker replaying the capture) it is dropped.
    expect(await orig(controlDatagram, { address: "127.0.0.1", port: clientPort + 1 })).toBeUndefined();
    // After Close Session the packet is dropped.
    await c.close();
    expect(await orig(controlDatagram, { address: "127.0.0.1", port: clientPort })).toBeUndefined();
    expect(e.chassis.controls).toEqual([2]);
  });

  test("a client retry after a lost reply (new session sequence, same rqSeq) is answered from the cache", async () => {
    const e = await engineOverUdp();
    const lost = loseFirstControlReply(e);
    const c = await connect(e);
    await c.chassisControl("reset");
    expect(lost.dropped()).toBe(1);
    expect(e.chassis.controls).toEqual([3]);
    expect(e.engine.stats().cacheHits).toBeGreaterThanOrEqual(1);
  });

  test("retries that arrive while the handler still runs wait for its answer instead of running it again", async () => {
    const e = await engineOverUdp({}, { delayMs: 700 });
    const c = await connect(e, { retransmitMs: 150 });
    await c.chassisControl("on");
    expect(e.chassis.controls).toEqual([1]);
    expect(e.engine.stats().cacheHits).toBeGreaterThanOrEqual(2);
  });

  test("updateOptions: a changed password closes that user's sessions; others keep running", async () => {
    const e = await engineOverUdp();
    const admin = await connect(e);
    const op = await connect(e, { username: OPERATOR.name, password: OPERATOR.password, privilege: 3 });
    e.engine.updateOptions({ users: [{ ...ADMIN, password: "new-Pw-2" }, OPERATOR] });
    expect(e.engine.activeSessionCount()).toBe(1);
    await op.chassisStatus();
    const err = await admin.chassisStatus({ timeoutMs: 500 }).catch((x) => x);
    expect(err).toBeInstanceOf(DeadlineError);
  });

  test("suite 0 works only when insecure auth is allowed", async () => {
    const closed = await engineOverUdp({ cipherSuites: [17, 3, 0] });
    const err = await connect(closed, { cipherSuites: [0] }).catch((x) => x);
    expect((err as IpmiAuthError).status).toBe(RakpStatus.invalidAuthenticationAlgorithm);
    const open = await engineOverUdp({ cipherSuites: [17, 3, 0], allowInsecureAuth: true });
    const c = await connect(open, { cipherSuites: [0] });
    expect(c.cipherSuite.id).toBe(0);
    await c.chassisControl("on");
    expect(open.chassis.power.on).toBe(true);
  });

  test("a request arriving in a session carries the session's identity to the handler", async () => {
    const e = await engineOverUdp();
    const c = await connect(e, { cipherSuites: [3] });
    await c.chassisStatus();
    const req = e.chassis.calls.at(-1)!;
    expect(req.session).toMatchObject({ user: ADMIN.name, kind: "rmcp+", cipherSuite: 3, maxPrivilege: 4 });
    expect(req.privilege).toBe(4);
    expect(req.channel).toBe(1);
  });
});

describe("retries and the response cache, packet by packet", () => {
  test("a command retried under a new session sequence (same rqSeq) runs once; a read runs again", async () => {
    const ch = fakeChassis(TEST_GUID);
    const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: ch.handler });
    const s = await rawSession(e, ADMIN);
    expect((await s.request(0x00, 0x02, [0x01], 7))?.cc).toBe(0);
    expect((await s.request(0x00, 0x02, [0x01], 7))?.cc).toBe(0);
    expect(ch.controls).toEqual([1]);
    // A read with a reused rqSeq is executed again: never a stale power state.
    expect((await s.request(0x00, 0x01, [], 9))?.data[0]! & 1).toBe(1);
    ch.power.on = false;
    expect((await s.request(0x00, 0x01, [], 9))?.data[0]! & 1).toBe(0);
    // The same rqSeq with other data is another request.
    expect((await s.request(0x00, 0x02, [0x00], 7))?.cc).toBe(0);
    expect(ch.controls).toEqual([1, 0]);
  });

  test("a retry under a new rqSeq (freeipmi) runs once when nothing came between; a deliberate repeat runs", async () => {
    let t = 1_000_000;
    const ch = fakeChassis(TEST_GUID);
    const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: ch.handler, now: () => t });
    const s = await rawSession(e, ADMIN);
    for (const rqSeq of [10, 11, 12]) expect((await s.request(0x00, 0x02, [0x02], rqSeq))?.cc).toBe(0);
    expect(ch.controls).toEqual([2]);
    expect(e.stats().cacheHits).toBe(2);
    // After another request in between, the same command is a new one.
    await s.request(0x00, 0x01, [], 13);
    expect((await s.request(0x00, 0x02, [0x02], 14))?.cc).toBe(0);
    expect(ch.controls).toEqual([2, 2]);
    // And so it is once the retry window (5 s) has passed.
    t += 5001;
    expect((await s.request(0x00, 0x02, [0x02], 15))?.cc).toBe(0);
    expect(ch.controls).toEqual([2, 2, 2]);
  });

  test("a byte-identical retransmission is answered again, a stale one (outside the window) is dropped", async () => {
    const ch = fakeChassis(TEST_GUID);
    const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: ch.handler });
    const s = await rawSession(e, ADMIN);
    expect((await s.request(0x00, 0x02, [0x02], 1, 100))?.cc).toBe(0);
    expect((await s.request(0x00, 0x02, [0x02], 1, 100))?.cc).toBe(0);
    expect(ch.controls).toEqual([2]);
    for (let i = 0; i < 40; i++) await s.request(0x00, 0x01, [], (i + 2) & 0x3f, 101 + i);
    expect(await s.request(0x00, 0x02, [0x02], 1, 100)).toBeUndefined();
    expect(await s.request(0x00, 0x02, [0x03], 50, 100)).toBeUndefined();
    expect(ch.controls).toEqual([2]);
  });

  test("a packet with a bad integrity code is dropped and does not advance the window", async () => {
    const ch = fakeChassis(TEST_GUID);
    const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: ch.handler });
    const s = await rawSession(e, ADMIN);
    const good = s.sec.k1;
    s.sec.k1 = new Uint8Array(32).fill(9);
    expect(await s.request(0x00, 0x02, [0x01], 1, 5)).toBeUndefined();
    s.sec.k1 = good;
    expect((await s.request(0x00, 0x02, [0x01], 1, 5))?.cc).toBe(0);
    expect(ch.controls).toEqual([1]);
  });
});

describe("malformed input", () => {
  test("garbage and truncated datagrams are dropped without throwing", async () => {
    const e = engineWith();
    for (const d of [new Uint8Array(0), new Uint8Array([6]), new Uint8Array(100).fill(0xff), new Uint8Array([6, 0, 0xff, 7, 6, 0x10, 0, 0, 0, 0])]) {
      expect(await send(e, d)).toBeUndefined();
    }
    expect(e.stats().dropped).toBe(4);
  });
});
