// Fencing: off then fresh status reads, never cycle; "already off" counts; bounded; and the
// real thing through esxkit's RMCP+ client against a pyghmi BMC (suite 17 falls back to 3).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import type { PhysicalBmcConfig } from "../../src/config/types.ts";
import { BmcIdentityError, FenceError } from "../../src/errors.ts";
import { createLogger, silentLogger } from "../../src/log/logger.ts";
import { type ChassisSession, fenceHost } from "../../src/watchdog/fence.ts";
import { cipherOrder, ipmiChassisOpener } from "../../src/watchdog/ipmi-chassis.ts";

const bmc: PhysicalBmcConfig = { address: "127.0.0.1", port: 1, username: "u", password: "p", cipher_suite: 17, privilege: "administrator" };

/** A scripted BMC: `states` are what successive status reads return after each command. */
function fakeBmc(script: { initiallyOn: boolean; offTakesReads?: number; failReads?: number[]; failOpen?: number }) {
  let on = script.initiallyOn;
  let readsSinceOff = -1;
  let reads = 0;
  let opens = 0;
  const calls: string[] = [];
  const session: ChassisSession = {
    async powerIsOn() {
      reads++;
      calls.push("status");
      if (script.failReads?.includes(reads)) throw new Error("no answer");
      if (readsSinceOff >= 0 && ++readsSinceOff > (script.offTakesReads ?? 0)) on = false;
      return on;
    },
    async powerOff() {
      calls.push("off");
      if (readsSinceOff < 0) readsSinceOff = 0;
    },
    async close() {
      calls.push("close");
    },
  };
  return {
    calls,
    open: async () => {
      opens++;
      if (script.failOpen !== undefined && opens <= script.failOpen) throw new Error("no RMCP+ answer");
      return session;
    },
  };
}

const fast = { timeoutMs: 5000, pollMs: 1, logger: silentLogger, sleep: async () => {} };

describe("fenceHost (scripted BMC)", () => {
  test.each([
    ["on, off at once", { initiallyOn: true }, ["status", "off", "status", "status", "close"], false],
    ["on, off after two more reads", { initiallyOn: true, offTakesReads: 2 }, ["status", "off", "status", "status", "status", "status", "close"], false],
    ["already off: no command, two fresh reads", { initiallyOn: false }, ["status", "status", "close"], true],
    ["a failed read resets the confirmation", { initiallyOn: false, failReads: [2] }, ["status", "status", "close", "status", "status", "close"], true],
  ])("%s", async (_n, script, calls, alreadyOff) => {
    const b = fakeBmc(script);
    const r = await fenceHost(bmc, { ...fast, open: b.open });
    expect(b.calls).toEqual(calls);
    expect(r.alreadyOff).toBe(alreadyOff);
    expect(b.calls).not.toContain("cycle");
  });

  test("a BMC that is not the host's: refused before any power command, not retried", async () => {
    const b = fakeBmc({ initiallyOn: true });
    let verifies = 0;
    const verify = async () => {
      verifies++;
      throw new BmcIdentityError("refusing to fence esx01 through BMC 127.0.0.1:1: another machine's BMC");
    };
    const err = await fenceHost(bmc, { ...fast, open: b.open, verify }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BmcIdentityError);
    expect(verifies).toBe(1);
    expect(b.calls).not.toContain("off");
  });

  test("a lost identity reply is retried on a new session; power off only after the verdict", async () => {
    const b = fakeBmc({ initiallyOn: true });
    const order: string[] = [];
    let n = 0;
    const verify = async () => {
      order.push(`verify ${++n}`);
      if (n === 1) throw new Error("Get System GUID: no answer within 5000 ms");
    };
    const r = await fenceHost(bmc, { ...fast, open: b.open, verify });
    expect(r.offCommands).toBe(1);
    expect(order).toEqual(["verify 1", "verify 2"]);
    expect(b.calls.indexOf("off")).toBeGreaterThan(b.calls.indexOf("close"));
  });

  test("session setup failures are retried within the bound", async () => {
    const b = fakeBmc({ initiallyOn: true, failOpen: 3 });
    const r = await fenceHost(bmc, { ...fast, open: b.open });
    expect(r.offCommands).toBe(1);
  });

  test("no confirmation within fence_timeout: FenceError", async () => {
    let t = 0;
    const b = fakeBmc({ initiallyOn: true, offTakesReads: 1_000_000 });
    const err = await fenceHost(bmc, { ...fast, open: b.open, timeoutMs: 1000, now: () => (t += 10) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceError);
    expect((err as FenceError).code).toBe("ESX_FENCE");
    expect((err as Error).message).toContain("could not confirm");
  });

  test.each([
    [17, [17, 3]],
    [3, [3]],
  ] as const)("cipher suite %d → tried in order %p", (suite, order) => {
    expect(cipherOrder({ ...bmc, cipher_suite: suite })).toEqual([...order]);
  });
});

describe("fenceHost against a pyghmi BMC (real RMCP+ peer)", () => {
  const FAKE_BMC = resolve(import.meta.dir, "../support/watchdog/fake_bmc.py");
  const procs: Subprocess[] = [];

  async function startBmc(off: boolean): Promise<{ port: number; events: string[] }> {
    const args = ["/usr/bin/python3", FAKE_BMC, "--port", "0", "--user", "ADMIN", "--host-cmd", JSON.stringify(["sh", "-c", "echo {}; exec sleep 600"])];
    if (off) args.push("--off");
    const p = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: { ...process.env, FAKE_BMC_PASSWORD: "fence-pass" } });
    procs.push(p);
    const events: string[] = [];
    let port = 0;
    const ready = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error("fake BMC not ready in 20 s")), 20_000);
      void (async () => {
        const dec = new TextDecoder();
        let buf = "";
        for await (const chunk of p.stdout) {
          buf += dec.decode(chunk);
          for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
            const e = JSON.parse(buf.slice(0, nl)) as { event: string; port?: number };
            buf = buf.slice(nl + 1);
            events.push(e.event);
            if (e.event === "ready") {
              port = e.port as number;
              clearTimeout(timer);
              res();
            }
          }
        }
      })();
    });
    await ready;
    return { port, events };
  }

  afterAll(async () => {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
  });

  beforeAll(() => {
    expect(Bun.which("ipmitool")).not.toBeNull();
  });

  // pyghmi's BMC answers every Open Session with suite 3's algorithms: a configured 17 must
  // be tried, refused, and fall back to 3; a configured 3 goes straight to 3.
  test.each([
    [17, [{ suite: 17, next: 3 }]],
    [3, []],
  ] as const)("power off + confirmation with cipher_suite %d", async (suite, fallbacks) => {
    const b = await startBmc(false);
    const cfg: PhysicalBmcConfig = { ...bmc, port: b.port, username: "ADMIN", password: "fence-pass", cipher_suite: suite };
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: "debug", format: "json", journal: false, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const r = await fenceHost(cfg, { open: ipmiChassisOpener(logger), timeoutMs: 20_000, pollMs: 200, logger });
    expect(r.alreadyOff).toBe(false);
    expect(r.offCommands).toBe(1);
    expect(b.events).toContain("power_off");
    const refused = lines.filter((l) => l.msg === "IPMI cipher suite not accepted, trying the next").map((l) => ({ suite: l.suite, next: l.next }));
    expect(refused.slice(0, 1)).toEqual([...fallbacks]);
    expect(lines.filter((l) => l.msg === "IPMI session established").map((l) => l.suite)).toContain(3);
  });

  test("a host already off counts as fenced, without a power command", async () => {
    const b = await startBmc(true);
    const cfg: PhysicalBmcConfig = { ...bmc, port: b.port, username: "ADMIN", password: "fence-pass" };
    const r = await fenceHost(cfg, { open: ipmiChassisOpener(), timeoutMs: 20_000, pollMs: 200, logger: silentLogger });
    expect(r).toMatchObject({ alreadyOff: true, offCommands: 0 });
    expect(b.events).not.toContain("power_off");
  });

  test("wrong password: no fence (FenceError), never a power command", async () => {
    const b = await startBmc(false);
    const cfg: PhysicalBmcConfig = { ...bmc, port: b.port, username: "ADMIN", password: "wrong", cipher_suite: 3 };
    // pyghmi answers nothing to a session it cannot authenticate: every attempt times out, so
    // the fence ends at its bound (3 s here), well inside the test's own 15 s.
    const err = await fenceHost(cfg, { open: ipmiChassisOpener(), timeoutMs: 3000, pollMs: 200, logger: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceError);
    expect(b.events).not.toContain("power_off");
  }, 15_000);
});
