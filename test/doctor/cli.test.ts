// `esxkit doctor` as a user runs it (bun src/main.ts doctor …), against the simulator: exit 0/1/2
// as the simulated hosts gain traps, flags and config targets, --json and --markdown, usage
// errors, colour on a terminal (a pty from util-linux script) and none on a pipe.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";

const root = join(import.meta.dir, "../..");
const bun = join(root, "node_modules/.bin/bun");
const entry = join(root, "src/main.ts");
const SECRET = "s3cret-doctor-pw";

let vc: Vcsim;
let dir: string;

beforeAll(async () => {
  vc = await startVcsim({
    mode: "vpx",
    password: SECRET,
    vcVersion: "7.0.3",
    vcBuild: "20395099",
    hosts: { "*": { version: "7.0.3", build: "18644231", featureCapability: { "cpuid.MDCLEAR": "1" }, firewall: { CIMSLP: true } } },
  });
  dir = mkdtempSync(join(tmpdir(), "esxkit-doctor-cli-"));
});

afterAll(async () => {
  await vc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", VC_PW: SECRET });

async function doctor(args: string[], env: Record<string, string> = {}) {
  return run([bun, entry, "doctor", ...args], env);
}

/** The same on a terminal: util-linux script gives the child a pty and passes its exit code on (-e). */
async function doctorOnTty(args: string[], env: Record<string, string> = {}) {
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  return run(["script", "-qefc", [bun, entry, "doctor", ...args].map(quote).join(" "), "/dev/null"], env);
}

async function run(argv: string[], env: Record<string, string>) {
  const p = Bun.spawn(argv, {
    cwd: root,
    env: { ...baseEnv(), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const urlFlags = () => ["--url", vc.url, "--username", vc.username, "--password", "env:VC_PW", "--thumbprint", vc.thumbprintSha256];

describe("esxkit doctor", () => {
  test("clean inventory: exit 0, a plain table on a pipe (no colour codes)", async () => {
    const r = await doctor(urlFlags());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("OK (");
    expect(r.stdout).toMatch(/0 critical, 0 warning, \d+ info, \d+ ok — exit 0\n$/);
    expect(r.stdout).not.toContain("\x1b[");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  test.each([
    ["a terminal: coloured severity headings", {}, true],
    ["a terminal with NO_COLOR=1: plain", { NO_COLOR: "1" }, false],
  ] as [string, Record<string, string>, boolean][])("on %s", async (_, env, coloured) => {
    const r = await doctorOnTty(urlFlags(), env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("OK (");
    if (coloured) expect(r.stdout).toContain("\x1b[32mOK (");
    else expect(r.stdout).not.toContain("\x1b[");
  });

  test("an MDCLEAR mismatch makes it exit 1 (warnings)", async () => {
    await vc.control({ cmd: "host", host: "DC0_C0_H1", spec: { featureCapability: { "cpuid.MDCLEAR": "0" } } });
    const r = await doctor(urlFlags());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("WARNING (1)");
    expect(r.stdout).toContain("cpuid.MDCLEAR differs within cluster DC0_C0");
  });

  test("ESXi 7.0 U2 on USB makes it exit 2; --json and --markdown carry the same verdict", async () => {
    await vc.control({ cmd: "host", host: "DC0_C0_H0", spec: { usbBoot: true, version: "7.0.2", build: "17630552" } });
    const text = await doctor(urlFlags());
    expect(text.code).toBe(2);
    expect(text.stdout.indexOf("CRITICAL (")).toBeLessThan(text.stdout.indexOf("WARNING ("));

    const json = await doctor([...urlFlags(), "--json"]);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout);
    expect(report.schema).toBe("esxkit-doctor/1");
    expect(report.exitCode).toBe(2);
    expect(report.findings.map((f: { rule: string }) => f.rule)).toContain("usb-boot.critical-build");
    expect(report.targets[0].product).toBe("VMware vCenter Server 7.0.3 build-20395099");

    const md = await doctor([...urlFlags(), "--markdown"]);
    expect(md.code).toBe(2);
    expect(md.stdout).toStartWith("# vSphere health report\n");
    expect(md.stdout).toContain("**Action required:** critical findings below.");
    expect(md.stdout + json.stdout).not.toContain(SECRET);
  });

  test("targets from -c: the config's vCenter, the secret from the environment", async () => {
    const file = join(dir, "doctor.toml");
    writeFileSync(file, `[vcenter.lab]\nurl = "${vc.url}"\nusername = "${vc.username}"\npassword = "env:VC_PW"\nthumbprint = "${vc.thumbprintSha1}"\n`, { mode: 0o600 });
    const r = await doctor(["-c", file, "--json"]);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.targets).toEqual([{ name: "lab", url: vc.url, kind: "vcenter", product: "VMware vCenter Server 7.0.3 build-20395099" }]);
  });

  test("a wrong password is a critical finding about that endpoint, not a crash", async () => {
    const r = await doctor(["--url", vc.url, "--username", vc.username, "--password", "env:WRONG", "--insecure"], { WRONG: "nope" });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("endpoint");
    expect(r.stdout).toContain("InvalidLogin");
  });

  test.each([
    [["--json", "--markdown", "--url", "x"], /choose one of --json and --markdown/],
    [["-c", "x.toml", "--url", "https://h/sdk"], /either -c\/--config or --url/],
    [["--url", "https://h/sdk", "--username", "u"], /--password is required/],
    [["--url", "https://h/sdk", "--username", "u", "--password", "env:UNSET_DOCTOR_PW"], /--password: env:UNSET_DOCTOR_PW: environment variable UNSET_DOCTOR_PW is not set/],
    [["--url", "https://h/sdk", "--username", "u", "--password", "p", "--thumbprint", "zz"], /--thumbprint: expected a SHA-1 or SHA-256 thumbprint/],
    [["--url", "https://h/sdk", "--username", "u", "--password", "p", "--insecure", "--thumbprint", "AA"], /choose one of --thumbprint, --ca or --insecure/],
    [["--bogus"], /unknown option --bogus for "doctor"/],
  ])("usage error %#: exit 2 with a clear message", async (args, message) => {
    const r = await doctor(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });

  test("a config it cannot read: exit 1, the reason on stderr, nothing on stdout (as --help says)", async () => {
    const r = await doctor(["-c", join(dir, "missing.toml"), "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("missing.toml: cannot read the config file (ENOENT)");
  });

  test("--help lists the flags and every exit code, usage errors included", async () => {
    const r = await doctor(["--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--url", "--thumbprint", "--json", "--markdown", "--bmc-timeout-ms"]) expect(r.stdout).toContain(flag);
    const text = r.stdout.replace(/\x1b\[[0-9;]*m/g, "").replace(/\s+/g, " ");
    expect(text).toContain("Exit 0 ok, 1 warnings, 2 critical");
    expect(text).toContain("exits 2 on a usage error and 1 when it cannot run");
  });
});
