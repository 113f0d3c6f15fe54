// The CLI as a user runs it: exit codes, unknown flags, help, config check.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { onPty } from "../support/ipmi/pty.ts";

const root = join(import.meta.dir, "../..");
const bun = join(root, "node_modules/.bin/bun");

function esxkit(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync([bun, join(root, "src/main.ts"), ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env }, cwd: root });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("esxkit CLI", () => {
  test("version prints the package version", () => {
    const r = esxkit(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^esxkit \d+\.\d+\.\d+ \(bun /);
  });

  test.each([
    [["--bogus"], /unknown option --bogus/],
    [["config", "check", "--nope"], /unknown option --nope for "check"/],
    [["serve", "--confg", "x"], /unknown option --confg/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("%p is a usage error (exit 2)", (args, message) => {
    const r = esxkit(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test.each([[["--help"]], [["serve", "--help"]], [["config", "check", "-h"]]])("%p prints usage and exits 0", (args) => {
    const r = esxkit(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
  });

  test("config check on the documented example: exit 0 and a summary", () => {
    const r = esxkit(["config", "check", "-c", "config.toml"], {
      VC_PASSWORD: "a-secret",
      BMC_PASSWORD: "b-secret",
      REDFISH_PASSWORD: "r-secret",
      BMC01: "c-secret",
      BMC02: "d-secret",
      CREDENTIALS_DIRECTORY: join(root, "test/fixtures/credentials"),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("valid");
    expect(r.stdout).toContain("bmc lab-vesxi01: VM lab-vesxi01 on vcenter lab, IPMI on [::]:6230 (suites 17,3), Redfish");
    expect(r.stdout).toContain("redfish: https://0.0.0.0:8443 (certificate self-signed in state_dir)");
    expect(r.stdout).not.toContain("r-secret");
    expect(r.stdout).not.toContain("a-secret");
  });

  test("config check on a broken file: exit 1 with file:line: path", () => {
    const r = esxkit(["config", "check", "-c", "test/fixtures/config/broken-port.toml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("broken-port.toml:9: bmc[0].port: expected an integer 1..65535, got \"62x0\"");
    expect(r.stderr).toContain("^");
  });

  test("config check --json on a broken file: the problems on stdout as JSON, exit 1", () => {
    const r = esxkit(["config", "check", "--json", "-c", "test/fixtures/config/broken-port.toml"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; problems: Array<{ line: number; key: string; message: string }> };
    expect(out.valid).toBe(false);
    expect(out.problems[0]).toMatchObject({ line: 9, key: "bmc[0].port", message: 'expected an integer 1..65535, got "62x0"' });
    expect(r.stderr).toContain("broken-port.toml:9");
  });

  test("the config is found through $ESXKIT_CONFIG", () => {
    const r = esxkit(["config", "check", "--json"], { ESXKIT_CONFIG: "test/fixtures/config/broken-port.toml" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("broken-port.toml:9");
  });
});

describe("help on a pipe", () => {
  test("carries no colour escape codes when stdout is not a terminal", () => {
    const p = Bun.spawnSync([bun, join(root, "src/main.ts"), "--help"], { env: { PATH: process.env.PATH ?? "" }, cwd: root });
    expect(p.exitCode).toBe(0);
    expect(p.stdout.toString()).toContain("Usage:");
    expect(p.stdout.toString()).not.toContain("\u001b[");
  });
});

describe("usage errors on a terminal", () => {
  // citty colours the names in its own messages unless NO_COLOR was set before it loaded.
  test("an invalid option value is named without colour codes", async () => {
    const r = await onPty([{ expect: "Expected one of" }, { exit_timeout: 10 }], [bun, join(root, "src/main.ts"), "vm", "power", "-c", "config.toml", "--by", "bogus", "x", "status"]);
    expect(r.ok).toBe(true);
    expect(r.exit_code).toBe(2);
    expect(r.output).toContain("error: Invalid value for argument: --by (bogus). Expected one of: name, uuid, instance_uuid.");
    expect(r.output).not.toContain("\u001b[");
  });
});

describe("errors a user meets", () => {
  test("an unexpected error is one line, no stack, with a hint", () => {
    const r = esxkit(["vcenter", "thumbprint", "not a url"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*ESXKIT_DEBUG=1/);
    expect(r.stderr).not.toContain("    at ");
  });

  test("status finds the socket even when the config on disk is invalid", () => {
    const r = esxkit(["status", "-c", "test/fixtures/config/broken-port.toml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot reach esxkit's control socket /run/esxkit/control.sock");
  });

  test("an unknown --log-level is a usage error, before anything starts", () => {
    const r = esxkit(["serve", "-c", "test/fixtures/config/minimal.toml", "--log-level", "verbose"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-level: expected debug, info, warn or error, got "verbose"');
  });
});
