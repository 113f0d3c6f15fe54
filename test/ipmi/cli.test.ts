// `esxkit ipmi HOST[:PORT] -U user -P env:X [-C 17|3] power status|on|off|cycle` against our
// engine, run as a real process (the way a field engineer runs it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseTarget } from "../../src/cli/ipmi.ts";
import { ADMIN, run, startEngine, startIpmiSim, type EngineUnderTest, type ExternalBmc } from "../support/ipmi/peers.ts";

let e: EngineUnderTest;
let sim: ExternalBmc;
beforeAll(async () => {
  [e, sim] = await Promise.all([startEngine(), startIpmiSim()]);
});
afterAll(async () => {
  await Promise.all([e?.close(), sim?.close()]);
});

function esxkitIpmi(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [join(import.meta.dir, "../support/ipmi/cli-root.ts"), "ipmi", ...args], 30_000, { ...process.env, IPMI_TEST_PW: ADMIN.password, ...env });
}

describe("esxkit ipmi", () => {
  test("power off, status, on, cycle against our engine (suite 17), password from env:", async () => {
    const target = `127.0.0.1:${e.port}`;
    let r = await esxkitIpmi([target, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "power", "off"]);
    expect(r.stdout).toBe("Chassis Power Control: Down/Off\n");
    expect(r.code).toBe(0);
    r = await esxkitIpmi([target, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "power", "status"]);
    expect(r.stdout).toBe("Chassis Power is off\n");
    r = await esxkitIpmi([target, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "-C", "3", "power", "on"]);
    expect(r.code).toBe(0);
    expect(e.chassis.calls.at(-1)?.session?.cipherSuite).toBe(3);
    r = await esxkitIpmi([target, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "--json", "power", "status"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ power: "on", powerOn: true });
    r = await esxkitIpmi([target, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "power", "cycle"]);
    expect(e.chassis.controls.at(-1)).toBe(2);
  });

  test("against ipmi_sim it falls back from 17 to 3 on its own", async () => {
    const r = await esxkitIpmi([`127.0.0.1:${sim.port}`, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "-v", "power", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Chassis Power is (on|off)\n$/);
    expect(r.stderr).toContain("suite=3");
  });

  test("raw and mc info", async () => {
    const raw = await esxkitIpmi([`127.0.0.1:${e.port}`, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "raw", "0x06", "0x01"]);
    expect(raw.stdout.trim().split(" ").length).toBe(15);
    const mc = await esxkitIpmi([`127.0.0.1:${e.port}`, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "mc", "info"]);
    expect(mc.stdout).toContain("IPMI Version: 2.0");
    const guid = await esxkitIpmi([`127.0.0.1:${e.port}`, "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "--json", "mc", "guid"]);
    const g = JSON.parse(guid.stdout) as Record<string, string>;
    expect(g.bytes?.replace(/ /g, "")).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(g).sort()).toEqual(["bytes", "reversed", "rfc4122", "smbios"]);
    expect(g.rfc4122).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test.each([
    ["a wrong password", ["-P", "env:WRONG"], 1, "ESX_IPMI_AUTH"],
    ["an unset env: reference", ["-P", "env:NOT_SET_ANYWHERE"], 1, "ESX_SECRET"],
    ["a bad power action", ["-P", "env:IPMI_TEST_PW", "power", "flip"], 2, 'expected status, on, off'],
    ["a bad cipher suite", ["-P", "env:IPMI_TEST_PW", "-C", "2", "power", "status"], 2, "-C: expected 17 or 3"],
    ["no password", ["power", "status"], 2, "-P SECRET is required"],
  ])("%s exits %i and says why", async (_what, args, code, message) => {
    const hasCommand = args.includes("power");
    const r = await esxkitIpmi([`127.0.0.1:${e.port}`, "-U", ADMIN.name, ...args, ...(hasCommand ? [] : ["power", "status"])], { WRONG: "not-it" });
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain(ADMIN.password);
  });

  test("an unreachable BMC fails within --timeout with ESX_DEADLINE", async () => {
    const r = await esxkitIpmi(["127.0.0.1:9", "-U", ADMIN.name, "-P", "env:IPMI_TEST_PW", "--timeout", "500", "power", "status"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ESX_DEADLINE");
  });
});

describe("parseTarget", () => {
  test.each([
    ["bmc1", "bmc1", 623],
    ["bmc1:6230", "bmc1", 6230],
    ["10.0.0.5:623", "10.0.0.5", 623],
    ["[fd00::5]:1623", "fd00::5", 1623],
    ["fd00::5", "fd00::5", 623],
  ])("%s", (target, host, port) => {
    expect(parseTarget(target)).toEqual({ host, port });
  });
  test.each([["bmc1:0"], ["bmc1:70000"], [":623"], ["[::1]:x"]])("%s is refused", (target) => {
    expect(() => parseTarget(target)).toThrow(/HOST\[:PORT\]/);
  });
});
