// Session-setup limits and the login-failure log, in-process with a controlled clock:
// the source bucket runs dry and refills, repeated RAKP 1s in one session cost the source
// again, the user bucket spans sources, the source table stays bounded, and the failure log
// writes at most one line per window.
import { describe, expect, test } from "bun:test";
import { PayloadType } from "../../src/ipmi/codes/auth-types.ts";
import { RakpStatus } from "../../src/ipmi/codes/rakp-status.ts";
import { sealRmcpPlusSessionless } from "../../src/ipmi/secure.ts";
import { rakp1 } from "../../src/ipmi/wire/rakp.ts";
import { IpmiSessionEngine, type EngineOptions } from "../../src/ipmi/server/engine.ts";
import { LoginFailureLog } from "../../src/ipmi/server/login-failures.ts";
import { MAX_TRACKED_SOURCES, TokenBuckets } from "../../src/ipmi/server/login-limits.ts";
import { createLogger } from "../../src/log/logger.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { ADMIN, TEST_GUID } from "../support/ipmi/peers.ts";
import { openSession, rawSession, sendRakp1 } from "../support/ipmi/raw.ts";

const FLOOD = { address: "127.0.0.3", port: 50000 };
const OTHER = { address: "127.0.0.2", port: 50001 };
const SUITE17 = { auth: 3, integrity: 4, confidentiality: 1 };

function engineAt(clock: { t: number }, over: Partial<EngineOptions> = {}) {
  const reasons: string[] = [];
  const e = new IpmiSessionEngine({
    users: [ADMIN],
    guid: TEST_GUID,
    handler: fakeChassis(TEST_GUID).handler,
    maxSessions: 64,
    loginLimits: { perSourcePerMinute: 30, perUserPerMinute: 120 },
    onLoginFailure: (f) => reasons.push(f.reason),
    now: () => clock.t,
    ...over,
  });
  return { e, reasons };
}

describe("session-setup limits", () => {
  test("a source gets its burst (a third of the minute), then 01h; another source still logs in; a refill lets it back", async () => {
    const clock = { t: 1_000_000 };
    const { e, reasons } = engineAt(clock);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await openSession(e, { ...SUITE17, consoleId: 100 + i }, FLOOD)).status);
    expect(statuses.filter((s) => s === RakpStatus.noErrors)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual(Array(5).fill(RakpStatus.insufficientResources));
    expect(reasons).toEqual(Array(5).fill("rate_limited"));

    await rawSession(e, ADMIN, OTHER); // not locked out
    clock.t += 2000; // 30 a minute: one token every 2 s
    expect((await openSession(e, { ...SUITE17, consoleId: 999 }, FLOOD)).status).toBe(RakpStatus.noErrors);
    expect((await openSession(e, { ...SUITE17, consoleId: 998 }, FLOOD)).status).toBe(RakpStatus.insufficientResources);
  });

  test("RAKP 1 repeated in one session: a retransmission is free, each new code costs the source a token", async () => {
    const clock = { t: 5_000_000 };
    const { e } = engineAt(clock, { loginLimits: { perSourcePerMinute: 6, perUserPerMinute: 600 } }); // burst 2
    const o = await openSession(e, SUITE17, FLOOD); // token 1
    // The same RAKP 1 twice (its RAKP 2 was lost): answered alike, charged once.
    const m1 = sealRmcpPlusSessionless(
      PayloadType.rakp1,
      rakp1.encode({ messageTag: 1, managedSystemSessionId: o.managedSystemSessionId, consoleRandom: new Uint8Array(16).fill(7), role: 0x14, username: new TextEncoder().encode(ADMIN.name) }),
    );
    const first = await e.handleDatagram(m1, FLOOD);
    expect(Buffer.from((await e.handleDatagram(m1, FLOOD))!)).toEqual(Buffer.from(first!));
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await sendRakp1(e, o.managedSystemSessionId, ADMIN.name, 0x14, FLOOD)).rakp2.status);
    // The first code was paid by the Open Session; this new one by token 2; the next is refused
    // and ends the session, so the last finds none.
    expect(codes).toEqual([0, RakpStatus.insufficientResources, RakpStatus.invalidSessionId]);
    expect(e.sessionCount()).toBe(0);
  });

  test("the per-user bucket spans sources", async () => {
    const clock = { t: 9_000_000 };
    const { e, reasons } = engineAt(clock, { loginLimits: { perSourcePerMinute: 600, perUserPerMinute: 12 } }); // user burst 4
    const got: number[] = [];
    for (let i = 0; i < 6; i++) {
      const src = { address: `127.0.1.${i}`, port: 40000 };
      const o = await openSession(e, SUITE17, src);
      got.push((await sendRakp1(e, o.managedSystemSessionId, ADMIN.name, 0x14, src)).rakp2.status);
    }
    expect(got).toEqual([0, 0, 0, 0, RakpStatus.insufficientResources, RakpStatus.insufficientResources]);
    expect(reasons).toEqual(["rate_limited", "rate_limited"]);
  });

  test("the source table is capped: a spoofed-address flood cannot grow it without bound", () => {
    const b = new TokenBuckets(5, 60, MAX_TRACKED_SOURCES);
    for (let i = 0; i < MAX_TRACKED_SOURCES * 3; i++) b.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1000);
    expect(b.size).toBeLessThanOrEqual(MAX_TRACKED_SOURCES);
  });
});

describe("login-failure log", () => {
  test("one line at once, the rest of the window summed into one line; then quiet again", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: "info", format: "json", journal: false, write: (l) => lines.push(JSON.parse(l)) });
    const clock = { t: 0 };
    const log = new LoginFailureLog(() => logger, () => 60_000, () => clock.t);
    const src = (n: number) => ({ address: `192.0.2.${n}`, port: 1000 + n });
    log.record({ reason: "wrong_password", source: src(1), user: "admin" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", msg: "IPMI login failed", reason: "wrong_password", user: "admin", client: "192.0.2.1:1001" });
    for (let i = 0; i < 500; i++) {
      clock.t += 10;
      log.record({ reason: i % 2 ? "unknown_user" : "wrong_password", source: src(i % 9), user: `u${i % 7}` });
    }
    expect(lines).toHaveLength(1); // nothing more inside the window
    clock.t = 60_001;
    log.record({ reason: "unknown_user", source: src(3), user: "root" }); // window over: the summary goes out
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: "info", msg: "IPMI login failures", failures: 500, reasons: { wrong_password: 250, unknown_user: 250 }, window_s: 60 });
    expect((lines[1]!.sources as string[]).length).toBe(5);
    expect((lines[1]!.users as string[]).length).toBe(5);
    log.flush(); // the one that came after the summary
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ failures: 1, reasons: { unknown_user: 1 } });
    log.flush();
    expect(lines).toHaveLength(3);
  });
});
