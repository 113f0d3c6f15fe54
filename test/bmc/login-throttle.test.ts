// Session setup under attack and by mistake, through real clients: a RAKP flood from
// 127.0.0.3 is cut off while ipmitool (from 127.0.0.1) still logs in; a wrong password
// shows at info and in esxkit_ipmi_login_failures_total; a flood of failures makes one
// summary line, not one per packet; and status and /metrics count sessions alike.
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { type BmcService, createBmcService } from "../../src/bmc/service.ts";
import type { BmcConfig } from "../../src/config/types.ts";
import { createLogger } from "../../src/log/logger.ts";
import { metrics } from "../../src/log/metrics.ts";
import { expectFailure, ipmitool, ok, run } from "../support/bmc/clients.ts";
import { BMC_USER, bmcConfig } from "../support/bmc/service.ts";
import { waitFor } from "../support/bmc/vsphere.ts";
import { rakpFlood, rakpLogin } from "../support/ipmi/rakp-flood.ts";

const ATTACKER = "127.0.0.3";

interface Logged {
  level: string;
  msg: string;
  [k: string]: unknown;
}

let running: BmcService | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(over: Partial<BmcConfig>): Promise<{ port: number; logs: Logged[] }> {
  const logs: Logged[] = [];
  const logger = createLogger({ level: "info", format: "json", journal: false, write: (l) => logs.push(JSON.parse(l)) });
  running = createBmcService(bmcConfig(over), { backend: new MemoryBackend({ power: "on" }), logger });
  await running.start();
  return { port: running.boundAddress()!.port, logs };
}

const failures = metrics.counter("esxkit_ipmi_login_failures_total", "");
const loginLines = (logs: Logged[]) => logs.filter((l) => l.msg.startsWith("IPMI login fail"));

/** A gauge's value for one BMC in the text /metrics serves. */
function scraped(name: string, bmc: string): number | undefined {
  const m = new RegExp(`^${name}\\{bmc="${bmc}"\\} (\\d+)$`, "m").exec(metrics.render());
  return m ? Number(m[1]) : undefined;
}

describe("session-setup limits", () => {
  test("a RAKP flood from 127.0.0.3 gets its burst of codes, then 'insufficient resources'; ipmitool from 127.0.0.1 still logs in", async () => {
    const name = "bmc-flood";
    const { port, logs } = await start({ name, logins_per_minute_per_source: 30, logins_per_minute_per_user: 120 });
    const before = failures.get({ bmc: name, reason: "rate_limited" });

    const flood = await rakpFlood(port, ATTACKER, BMC_USER, 60);
    // Burst = a third of the minute's allowance: 10 codes, give or take the refill during the run.
    expect(flood.codes).toBeGreaterThanOrEqual(10);
    expect(flood.codes).toBeLessThanOrEqual(13);
    expect(flood.refused[1]).toBe(60 - flood.codes);
    expect(flood.silent).toBe(0);
    expect(failures.get({ bmc: name, reason: "rate_limited" }) - before).toBe(60 - flood.codes);

    // The same user from another address is not locked out.
    expect(ok(await ipmitool(port, "lanplus", [], ["chassis", "power", "status"]), "ipmitool after the flood")).toContain("Chassis Power is on");
    // The attacker's own next try is still refused.
    expect((await rakpFlood(port, ATTACKER, BMC_USER, 1)).refused[1]).toBe(1);

    // Logged: the first refusal at once, then (at the end of the window, here at stop) one summary.
    await running!.stop();
    running = undefined;
    const lines = loginLines(logs);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: "info", msg: "IPMI login failed", reason: "rate_limited", client: expect.stringContaining(ATTACKER) });
    expect(lines[1]).toMatchObject({ level: "warn", msg: "IPMI login failures (rate limited)", failures: 60 - flood.codes, sources: [ATTACKER], users: [] });
    expect((lines[1]!.reasons as Record<string, number>).rate_limited).toBe(60 - flood.codes);
  });

  test("the per-user limit holds across addresses (127.0.0.3, .4, .5)", async () => {
    const name = "bmc-user-limit";
    const { port } = await start({ name, logins_per_minute_per_source: 600, logins_per_minute_per_user: 30 });
    let codes = 0;
    for (const from of ["127.0.0.3", "127.0.0.4", "127.0.0.5"]) codes += (await rakpFlood(port, from, BMC_USER, 8)).codes;
    expect(codes).toBeGreaterThanOrEqual(10);
    expect(codes).toBeLessThanOrEqual(12);
  });
});

describe("refused logins are visible, and bounded in the log", () => {
  test("ipmitool with a wrong password: refused, then one info line naming the user and client, counted", async () => {
    const name = "bmc-wrong-pw";
    const { port, logs } = await start({ name });
    const before = failures.get({ bmc: name, reason: "abandoned" });
    const r = await run("ipmitool", ["-I", "lanplus", "-H", "127.0.0.1", "-p", String(port), "-U", BMC_USER, "-P", "not-the-password", "-R", "1", "chassis", "power", "status"]);
    // ipmitool checks our RAKP 2 with its password, finds it wrong and stops: no RAKP 3 comes.
    expectFailure(r, /Unable to establish IPMI v2 \/ RMCP\+ session/);
    // The half-open setup times out (10 s) and is reported by the BMC's sweep, traffic or not.
    await waitFor(() => loginLines(logs).length > 0, "the login failure line", 20_000);
    expect(failures.get({ bmc: name, reason: "abandoned" }) - before).toBe(1);
    expect(loginLines(logs)).toEqual([
      expect.objectContaining({ level: "info", msg: "IPMI login failed", reason: "abandoned", user: BMC_USER, client: expect.stringContaining("127.0.0.1:"), hint: expect.stringContaining("wrong password") }),
    ]);
    expect(running!.status().pendingSessions).toBe(0);
  }, 40_000);

  test("a RAKP 3 with the wrong code (a client that does not check RAKP 2) is wrong_password", async () => {
    const name = "bmc-bad-rakp3";
    const { port, logs } = await start({ name });
    const before = failures.get({ bmc: name, reason: "wrong_password" });
    expect(await rakpLogin(port, ATTACKER, BMC_USER, "guessed-password")).toBe(0x0f);
    expect(failures.get({ bmc: name, reason: "wrong_password" }) - before).toBe(1);
    expect(loginLines(logs)).toEqual([expect.objectContaining({ level: "info", reason: "wrong_password", user: BMC_USER, client: expect.stringContaining(ATTACKER) })]);
  });

  test("200 setups for unknown users from 127.0.0.3: one line now, one summary later, counted as unknown_user", async () => {
    const name = "bmc-unknown";
    const { port, logs } = await start({ name, logins_per_minute_per_source: 100_000 });
    const before = failures.get({ bmc: name, reason: "unknown_user" });
    const flood = await rakpFlood(port, ATTACKER, "root", 200);
    expect(flood.refused[0x0d]).toBe(200); // unauthorized name
    expect(failures.get({ bmc: name, reason: "unknown_user" }) - before).toBe(200);
    expect(loginLines(logs)).toHaveLength(1);
    await running!.stop();
    running = undefined;
    const lines = loginLines(logs);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: "info", msg: "IPMI login failures", failures: 199, reasons: { unknown_user: 199 }, sources: [ATTACKER], users: ["root"] });
  });
});

describe("session counts", () => {
  test("status, Get Channel Info and /metrics agree: half-open setups are pending, logins are sessions", async () => {
    const name = "bmc-counts";
    const { port } = await start({ name });
    // 5 setups left half-open (RAKP 2 received, no RAKP 3): pending, not sessions.
    await rakpFlood(port, ATTACKER, BMC_USER, 5);
    let s = running!.status();
    expect({ sessions: s.sessions, pending: s.pendingSessions }).toEqual({ sessions: 0, pending: 5 });
    expect(scraped("esxkit_ipmi_sessions", name)).toBe(0);
    expect(scraped("esxkit_ipmi_sessions_pending", name)).toBe(5);

    // An ipmitool shell keeps one session open while we look.
    const shell = Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(port), "-U", BMC_USER, "-P", bmcConfig().password, "shell"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      shell.stdin.write("chassis power status\n");
      shell.stdin.flush();
      const reader = shell.stdout.getReader();
      let seen = "";
      const deadline = Date.now() + 15_000;
      while (!seen.includes("Chassis Power is") && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      expect(seen).toContain("Chassis Power is on");
      s = running!.status();
      expect(s.sessions).toBe(1);
      expect(scraped("esxkit_ipmi_sessions", name)).toBe(1);
      expect(scraped("esxkit_ipmi_sessions_pending", name)).toBe(s.pendingSessions);
      // Get Channel Info (byte 8: active sessions) counts the same sessions.
      const info = ok(await ipmitool(port, "lanplus", [], ["raw", "0x06", "0x42", "0x01"]), "get channel info");
      // Byte 4, bits 5:0: active sessions, the shell's and this one.
      expect(Number.parseInt(info.trim().split(/\s+/)[3]!, 16) & 0x3f).toBe(2);
    } finally {
      shell.stdin.write("exit\n");
      shell.stdin.end();
      await Promise.race([shell.exited, Bun.sleep(5000).then(() => shell.kill())]);
    }
  });
});
