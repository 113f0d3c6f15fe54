// `esxkit vcenter check|thumbprint` and `esxkit vm list|power`, run as a process against the
// simulator with a real config file: output, exit codes, and each failure's error code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { flipLastDigit, SimFixture, type Vcsim } from "../support/vsphere/sim.ts";
import { closedPort, startSilentServer, type TestServer } from "../support/vsphere/tls-server.ts";

const ENTRY = resolve(import.meta.dir, "../support/vsphere/cli-entry.ts");
const fx = new SimFixture();
const PASSWORD = "Sim-S3cret-4711";
let vpx: Vcsim;
let esx: Vcsim;
let silent: TestServer;
let dir: string;
let configFile: string;

beforeAll(async () => {
  [vpx, esx] = await Promise.all([fx.start({ mode: "vpx", password: PASSWORD }), fx.start({ mode: "esx", password: PASSWORD })]);
  silent = await startSilentServer();
  dir = mkdtempSync(join(tmpdir(), "esxkit-cli-"));
  configFile = join(dir, "config.toml");
  const ep = (name: string, url: string, extra: string) =>
    `[${name}]\nurl = "${url}"\nusername = "user"\npassword = "env:ESXKIT_TEST_PW"\n${extra}\n`;
  writeFileSync(
    configFile,
    [
      ep("vcenter.lab", vpx.url, `thumbprint = "${vpx.thumbprintSha256}"`),
      ep("vcenter.badpin", vpx.url, `thumbprint = "${flipLastDigit(vpx.thumbprintSha256)}"`),
      ep("vcenter.noverify", vpx.url, ""),
      ep("vcenter.insecure", vpx.url, "insecure = true"),
      `[vcenter.badlogin]\nurl = "${vpx.url}"\nusername = "user"\npassword = "env:ESXKIT_TEST_BAD_PW"\nthumbprint = "${vpx.thumbprintSha256}"\n`,
      ep("vcenter.dead", `https://127.0.0.1:${silent.port}/sdk`, "insecure = true\ntimeout_ms = 500"),
      ep("vcenter.closed", `https://127.0.0.1:${await closedPort()}/sdk`, `thumbprint = "${vpx.thumbprintSha256}"`),
      ep("esxi.esx01", esx.url, `thumbprint = "${esx.thumbprintSha1.toLowerCase()}"`),
    ].join("\n"),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await silent?.stop();
  await fx.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function esxkit(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, ENTRY, ...argv], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ESXKIT_TEST_PW: PASSWORD, ESXKIT_TEST_BAD_PW: "nope", NO_COLOR: "1" },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, out, err };
}

describe("vcenter check", () => {
  test("a vCenter: product, version, build, apiType and the certificate's SHA-256", async () => {
    const r = await esxkit("vcenter", "check", "lab", "-c", configFile);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("VMware vCenter Server 6.5.0 build-5973321");
    expect(r.out).toMatch(/version: +6\.5\.0/);
    expect(r.out).toMatch(/build: +5973321/);
    expect(r.out).toMatch(/apiType: +VirtualCenter/);
    expect(r.out).toContain(vpx.thumbprintSha256);
  });

  test("a standalone ESXi host from [esxi.NAME], pinned by a lower-case SHA-1; --json", async () => {
    const r = await esxkit("vcenter", "check", "esx01", "-c", configFile, "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ endpoint: "esx01", apiType: "HostAgent", build: "5969303", thumbprint_sha256: esx.thumbprintSha256 });
  });

  test.each([
    ["badpin", "ESX_TLS_PIN", esxThumbHint],
    ["noverify", "ESX_TLS_VERIFY", () => "esxkit vcenter thumbprint"],
    ["badlogin", "ESX_SOAP_FAULT", () => "InvalidLogin"],
    ["dead", "ESX_DEADLINE", () => "500 ms"],
    ["closed", "ESX_CONNECT", () => "ECONNREFUSED"],
    ["nosuch", "ESX_NOT_FOUND", () => "have: vcenter.lab"],
  ])("%s → exit 1 with %s", async (name, code, text) => {
    const r = await esxkit("vcenter", "check", name, "-c", configFile);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`[${code}]`);
    expect(r.err).toContain(text());
    expect(r.err).not.toContain(PASSWORD);
  });

  test("insecure = true connects, with a warning on stderr; verified endpoints print none", async () => {
    const r = await esxkit("vcenter", "check", "insecure", "-c", configFile);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tls: +insecure/);
    expect(r.err).toContain("TLS certificate verification is disabled");
    expect(r.err).toContain(vpx.url);
    const pinned = await esxkit("vcenter", "check", "lab", "-c", configFile);
    expect(pinned.err).not.toContain("verification is disabled");
  });

  test("an unknown flag is a usage error (exit 2)", async () => {
    const r = await esxkit("vcenter", "check", "lab", "-c", configFile, "--bogus");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--bogus");
  });
});

function esxThumbHint(): string {
  return `thumbprint = "${vpx.thumbprintSha256}"`;
}

describe("vcenter thumbprint", () => {
  test("prints both thumbprints, ready to paste", async () => {
    const r = await esxkit("vcenter", "thumbprint", vpx.url);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`thumbprint = "${vpx.thumbprintSha256}"`);
    expect(r.out).toContain(`thumbprint = "${vpx.thumbprintSha1}"`);
  });

  test("host:port works too; --json", async () => {
    const hostPort = new URL(esx.url).host;
    const r = await esxkit("vcenter", "thumbprint", hostPort, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ sha256: esx.thumbprintSha256, sha1: esx.thumbprintSha1, trusted_by_system: false });
  });

  test("nothing listening → exit 1, ESX_CONNECT", async () => {
    const r = await esxkit("vcenter", "thumbprint", "https://127.0.0.1:1/sdk");
    expect(r.code).toBe(1);
    expect(r.err).toContain("[ESX_CONNECT]");
  });
});

describe("vm list / vm power", () => {
  test("vm list: name, power state, BIOS uuid, host", async () => {
    const r = await esxkit("vm", "list", "--vcenter", "lab", "-c", configFile);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME +POWER +BIOS UUID +HOST$/);
    expect(lines.slice(1).some((l) => /^DC0_H0_VM0 +poweredOn +[0-9a-f-]{36} +DC0_H0$/.test(l))).toBe(true);
    const j = JSON.parse((await esxkit("vm", "list", "--vcenter", "lab", "-c", configFile, "--json")).out);
    expect(j.length).toBe(lines.length - 1);
    expect(j[0]).toHaveProperty("instance_uuid");
  });

  test("vm power: off, status, on, reset, soft; already-off is not an error", async () => {
    const run = (...a: string[]) => esxkit("vm", "power", ...a, "--vcenter", "lab", "-c", configFile);
    expect((await run("DC0_H0_VM1", "off")).out).toBe("DC0_H0_VM1: off: now poweredOff\n");
    expect((await run("DC0_H0_VM1", "status")).out).toBe("DC0_H0_VM1: is poweredOff\n");
    const again = await run("DC0_H0_VM1", "off");
    expect(again.code).toBe(0);
    expect(again.out).toContain("already in that state");
    const reset = await run("DC0_H0_VM1", "reset");
    expect(reset.code).toBe(1);
    expect(reset.err).toContain("InvalidPowerState");
    expect((await run("DC0_H0_VM1", "on")).out).toBe("DC0_H0_VM1: on: now poweredOn\n");
    expect((await run("DC0_H0_VM1", "reset")).code).toBe(0);
    expect((await run("DC0_H0_VM1", "soft")).out).toBe("DC0_H0_VM1: guest shutdown requested; now poweredOff\n");
  });

  test("vm power by BIOS uuid; unknown VM and unknown action fail clearly", async () => {
    const j = JSON.parse((await esxkit("vm", "list", "--vcenter", "lab", "-c", configFile, "--json")).out);
    const vm = j.find((v: { name: string }) => v.name === "DC0_H0_VM0");
    const r = await esxkit("vm", "power", vm.uuid, "status", "--by", "uuid", "--vcenter", "lab", "-c", configFile, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ vm: "DC0_H0_VM0", power_state: vm.power_state });
    const missing = await esxkit("vm", "power", "nope", "status", "--vcenter", "lab", "-c", configFile);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("[ESX_NOT_FOUND]");
    const bad = await esxkit("vm", "power", "DC0_H0_VM0", "explode", "--vcenter", "lab", "-c", configFile);
    expect(bad.code).toBe(2);
  });
});
