// The engine in front of an in-memory chassis, driven by the real clients over UDP on
// 127.0.0.1: ipmitool (lanplus -C 3, -C 17, auto; lan MD5), freeipmi ipmipower, pyghmi's
// client, fence_ipmilan. tshark watches all of it, dissects what is not encrypted, and must find nothing malformed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN, OPERATOR, PYTHON, loseFirstControlReply, run, startEngine, type EngineUnderTest } from "../support/ipmi/peers.ts";
import { type Capture, checkReplies, readCapture, startCapture } from "../support/ipmi/tshark.ts";

let e: EngineUnderTest;
let insecure: EngineUnderTest;
let capture: Capture;

beforeAll(async () => {
  e = await startEngine({ cipherSuites: [17, 3], ipmi15: true, maxSessions: 8 });
  insecure = await startEngine({ cipherSuites: [17, 3], ipmi15: true, allowInsecureAuth: true });
  capture = await startCapture(e.port);
});

afterAll(async () => {
  await capture?.stop();
  await e?.close();
  await insecure?.close();
});

function ipmitool(args: string[], opts: { port?: number; user?: string; password?: string } = {}) {
  return run(
    "ipmitool",
    ["-H", "127.0.0.1", "-p", String(opts.port ?? e.port), "-U", opts.user ?? ADMIN.name, "-P", opts.password ?? ADMIN.password, ...args],
    60_000,
  );
}

/** The cipher suite of the session that ran the last handler call. */
function lastSuite(): number | undefined {
  return e.chassis.calls.at(-1)?.session?.cipherSuite;
}

describe("ipmitool -I lanplus", () => {
  test.each([
    ["-C 3", ["-C", "3"], 3],
    ["-C 17", ["-C", "17"], 17],
    ["no -C (picks the best suite offered)", [], 17],
  ])("%s: power on, status, off, cycle, reset, soft, diag", async (_what, suiteArgs, suite) => {
    const lp = ["-I", "lanplus", ...suiteArgs];
    let r = await ipmitool([...lp, "chassis", "power", "off"]);
    expect(r.stdout).toContain("Chassis Power Control: Down/Off");
    expect(lastSuite()).toBe(suite);
    r = await ipmitool([...lp, "chassis", "power", "status"]);
    expect(r.stdout.trim()).toBe("Chassis Power is off");
    r = await ipmitool([...lp, "chassis", "power", "on"]);
    expect(r.code).toBe(0);
    expect(e.chassis.power.on).toBe(true);
    r = await ipmitool([...lp, "chassis", "power", "status"]);
    expect(r.stdout.trim()).toBe("Chassis Power is on");
    for (const [action, code] of [
      ["cycle", 2],
      ["reset", 3],
      ["soft", 5],
      ["diag", 4],
    ] as const) {
      const before = e.chassis.controls.length;
      r = await ipmitool([...lp, "chassis", "power", action]);
      expect(r.code).toBe(0);
      expect(e.chassis.controls.slice(before)).toEqual([code]);
    }
  });

  test("channel getciphers ipmi 1 lists suites 17 and 3", async () => {
    const r = await ipmitool(["-I", "lanplus", "channel", "getciphers", "ipmi", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^17\s+N\/A\s+hmac_sha256\s+sha256_128\s+aes_cbc_128/m);
    expect(r.stdout).toMatch(/^3\s+N\/A\s+hmac_sha1\s+hmac_sha1_96\s+aes_cbc_128/m);
  });

  test("-C 0 (no authentication) is refused at once and not offered unless insecure auth is enabled", async () => {
    for (const allow of [false, true]) {
      const bmc = await startEngine({ cipherSuites: [17, 3, 0], allowInsecureAuth: allow });
      try {
        const r = await ipmitool(["-I", "lanplus", "-C", "0", "chassis", "power", "status"], { port: bmc.port });
        const handled = bmc.chassis.calls.length;
        const ciphers = await ipmitool(["-I", "lanplus", "channel", "getciphers", "ipmi", "1"], { port: bmc.port });
        if (allow) {
          expect(r.stdout.trim()).toBe("Chassis Power is off");
          expect(ciphers.stdout).toMatch(/^0\s+N\/A\s+none\s+none\s+none/m);
        } else {
          expect(r.code).not.toBe(0);
          expect(r.stderr).toContain("invalid authentication algorithm");
          expect(ciphers.stdout).not.toMatch(/^0\s/m);
          expect(handled).toBe(0);
        }
      } finally {
        await bmc.close();
      }
    }
  });

  test("mc guid reports the GUID given to the engine (through RAKP2 and Get System GUID)", async () => {
    const r = await ipmitool(["-I", "lanplus", "-C", "17", "mc", "guid"]);
    expect(r.stdout).toContain("System GUID");
    // The wire bytes are the RFC 4122 bytes reversed; ipmitool must recognise the IPMI order.
    expect(r.stdout).toContain("System GUID   : 6b1c4e52-9a3f-4d11-8e27-005056a1b2c3\n");
    expect(r.stdout).toContain("GUID Encoding : IPMI\n");
    expect(r.stdout).not.toContain("WARNING");
  });

  test.each([
    ["unknown user", { user: "nobody" }, "RAKP 2 message indicates an error : unauthorized name"],
    ["operator asking for administrator", { user: OPERATOR.name, password: OPERATOR.password }, "RAKP 2 message indicates an error : unauthorized role"],
    // A wrong password is detected by ipmitool itself: RAKP2's HMAC is keyed by the password.
    ["wrong password", { password: "not-the-password" }, "RAKP 2 HMAC is invalid"],
  ])("%s fails at once with the RAKP status, not after the retry cycle", async (_what, opts, message) => {
    const r = await ipmitool(["-I", "lanplus", "-v", "chassis", "power", "status"], opts);
    expect(r.code).not.toBe(0);
    expect(r.timedOut).toBe(false);
    expect(r.stderr + r.stdout).toContain(message);
    // A silent drop would have shown as "no response from RAKP 1 message" after ~10 s.
    expect(r.stderr + r.stdout).not.toContain("no response");
    // (ipmitool does not tell the BMC when it finds RAKP2's HMAC wrong, so that one pending
    // slot lingers until the 10 s pending timeout; it gives way to new sessions if needed.)
    expect(e.engine.activeSessionCount()).toBe(0);
  });

  test("operator with -L OPERATOR may power on", async () => {
    const r = await ipmitool(["-I", "lanplus", "-L", "OPERATOR", "chassis", "power", "on"], { user: OPERATOR.name, password: OPERATOR.password });
    expect(r.code).toBe(0);
  });

  test("a reply lost on the way back: ipmitool retransmits and the command still runs once", async () => {
    const lost = loseFirstControlReply(e);
    try {
      const before = e.chassis.controls.length;
      const hits = e.engine.stats().cacheHits;
      const r = await ipmitool(["-I", "lanplus", "-C", "3", "-R", "4", "-N", "1", "chassis", "power", "cycle"]);
      expect(r.code).toBe(0);
      expect(lost.dropped()).toBe(1);
      expect(e.chassis.controls.slice(before)).toEqual([2]);
      expect(e.engine.stats().cacheHits).toBeGreaterThan(hits);
    } finally {
      lost.restore();
    }
  });

  test("every ipmitool session was closed: no active slot left behind", () => {
    expect(e.engine.activeSessionCount()).toBe(0);
  });
});

describe("ipmitool -I lan (IPMI 1.5, MD5)", () => {
  test("power status, on, off", async () => {
    let r = await ipmitool(["-I", "lan", "chassis", "power", "off"]);
    expect(r.code).toBe(0);
    expect(e.chassis.calls.at(-1)?.session?.kind).toBe("ipmi15");
    r = await ipmitool(["-I", "lan", "chassis", "power", "status"]);
    expect(r.stdout.trim()).toBe("Chassis Power is off");
    r = await ipmitool(["-I", "lan", "chassis", "power", "on"]);
    expect(r.code).toBe(0);
    expect(e.chassis.power.on).toBe(true);
    expect(e.engine.activeSessionCount()).toBe(0);
  });

  test.each([["PASSWORD"], ["NONE"]])("-A %s is refused unless insecure auth is enabled", async (auth) => {
    const refused = await ipmitool(["-I", "lan", "-A", auth, "chassis", "power", "status"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`Authentication type ${auth} not supported`);
    const ok = await ipmitool(["-I", "lan", "-A", auth, "chassis", "power", "status"], { port: insecure.port });
    expect(ok.stdout.trim()).toBe("Chassis Power is off");
  });

  test("IPMI 1.5 off: ipmitool -I lan cannot log in", async () => {
    const off = await startEngine({ ipmi15: false });
    try {
      const r = await ipmitool(["-I", "lan", "chassis", "power", "status"], { port: off.port });
      expect(r.code).not.toBe(0);
      expect(off.chassis.calls.length).toBe(0);
    } finally {
      await off.close();
    }
  });
});

describe("freeipmi ipmipower", () => {
  const ipmipower = (args: string[], port = e.port) =>
    run("ipmipower", ["-h", `127.0.0.1:${port}`, "-u", ADMIN.name, "-p", ADMIN.password, ...args], 60_000);
  test.each([
    ["LAN_2_0 suite 3", ["-D", "LAN_2_0", "-I", "3"], 3],
    ["LAN_2_0 suite 17", ["-D", "LAN_2_0", "-I", "17"], 17],
  ])("%s: --off, --stat, --on, --stat", async (_what, driver, suite) => {
    let r = await ipmipower([...driver, "--off"]);
    expect(r.stdout.trim()).toBe("127.0.0.1: ok");
    expect(lastSuite()).toBe(suite);
    r = await ipmipower([...driver, "--stat"]);
    expect(r.stdout.trim()).toBe("127.0.0.1: off");
    r = await ipmipower([...driver, "--on"]);
    expect(r.stdout.trim()).toBe("127.0.0.1: ok");
    r = await ipmipower([...driver, "--stat"]);
    expect(r.stdout.trim()).toBe("127.0.0.1: on");
  });

  test.each([["LAN_2_0"], ["LAN"]])("-D %s: a reply lost on the way back; the retry (new rqSeq) is answered and the cycle runs once", async (driver) => {
    const lost = loseFirstControlReply(e);
    try {
      const before = e.chassis.controls.length;
      const hits = e.engine.stats().cacheHits;
      const r = await ipmipower(["-D", driver, "--cycle", "--retransmission-timeout=200"]);
      expect(r.stdout.trim()).toBe("127.0.0.1: ok");
      expect(lost.dropped()).toBe(1);
      expect(e.chassis.controls.slice(before)).toEqual([2]);
      expect(e.engine.stats().cacheHits).toBeGreaterThan(hits);
    } finally {
      lost.restore();
    }
  });

  test("LAN (IPMI 1.5 MD5): --stat", async () => {
    const r = await ipmipower(["-D", "LAN", "--stat"]);
    expect(r.stdout.trim()).toBe("127.0.0.1: on");
  });

  test("a wrong password is reported as such", async () => {
    const r = await run("ipmipower", ["-h", `127.0.0.1:${e.port}`, "-u", ADMIN.name, "-p", "wrong-pass", "-D", "LAN_2_0", "--stat"], 60_000);
    expect(r.stdout).toContain("password invalid");
  });
});

describe("pyghmi client", () => {
  test("get_power, set_power on/off with wait, raw Get Device ID", async () => {
    const code = `
from pyghmi.ipmi import command
c = command.Command(bmc="127.0.0.1", userid="${ADMIN.name}", password="${ADMIN.password}", port=${e.port})
print(c.get_power()["powerstate"])
print(c.set_power("off", wait=True)["powerstate"])
print(c.set_power("on", wait=True)["powerstate"])
print(c.raw_command(netfn=6, command=1)["code"])
c.ipmi_session.logout()
`;
    const r = await run(PYTHON, ["-c", code], 60_000);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["on", "off", "on", "0"]);
  });

  test("a wrong password raises instead of hanging", async () => {
    const code = `
from pyghmi.ipmi import command
try:
    command.Command(bmc="127.0.0.1", userid="${ADMIN.name}", password="wrong", port=${e.port}).get_power()
except Exception as e:
    print("error:", e)
`;
    const r = await run(PYTHON, ["-c", code], 60_000);
    expect(r.stdout).toContain("error:");
  });
});

describe("fence_ipmilan", () => {
  test("--lanplus -o status, and reboot with --method=cycle", async () => {
    const args = ["--ip=127.0.0.1", `--ipport=${e.port}`, `--username=${ADMIN.name}`, `--password=${ADMIN.password}`, "--lanplus"];
    let r = await run("fence_ipmilan", [...args, "-o", "status"], 60_000);
    expect(r.stdout).toContain("Status: ON");
    const before = e.chassis.controls.length;
    r = await run("fence_ipmilan", [...args, "-o", "reboot", "--method=cycle"], 60_000);
    expect(r.stdout).toContain("Success: Rebooted");
    expect(e.chassis.controls.slice(before)).toContain(2);
  });
});

test("tshark's RMCP/IPMI dissector finds nothing malformed in the traffic above", async () => {
  const file = await capture.stop();
  const datagrams = await readCapture(file);
  const replies = datagrams.filter((d) => d.srcPort === e.port);
  expect(replies.length).toBeGreaterThan(200);
  // Not blind: the sessionless and IPMI 1.5 (MD5, payload in clear) replies are dissected
  // down to the command. (RMCP+ payloads are encrypted: opaque to tshark.)
  const check = await checkReplies(file, e.port, [
    "Rsp, Get Channel Authentication Capabilities, Command Completed Normally (00h)",
    "Rsp, Get Session Challenge, Command Completed Normally (00h)",
    "Rsp, Activate Session, Command Completed Normally (00h)",
    "Rsp, Set Session Privilege Level, Command Completed Normally (00h)",
    "Rsp, Get Chassis Status, Command Completed Normally (00h)",
    "Rsp, Chassis Control, Command Completed Normally (00h)",
    "Rsp, Close Session, Command Completed Normally (00h)",
  ]);
  expect(check).toEqual({ missing: [], problems: "" });
});
