// `config check` through the compiled binary: secrets under misspelled keys never reach any
// output, --no-secrets, CIDR validation, and a file with thousands of problems.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { buildBinary, esxkit } from "../support/config/binary.ts";
import { LEAKS, leakyConfig } from "../support/config/leaky.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-check-"));
beforeAll(() => buildBinary(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

function expectNoLeak(...outputs: string[]): void {
  const all = outputs.join("\n");
  for (const s of LEAKS) expect(all).not.toContain(s);
}

describe("secrets under any secret-looking key never reach config check's output", () => {
  const cfg = () => file("leaky.toml", leakyConfig());
  test.each([[[]], [["--json"]], [["--no-secrets"]], [["--no-secrets", "--json"]]])("config check %p", (flags) => {
    const r = esxkit(["config", "check", ...flags, "-c", cfg()]);
    expect(r.code).toBe(1);
    // The problems are reported, with their places and masked code blocks.
    const out = r.stdout + r.stderr;
    expect(out).toContain('unknown key "pasword"');
    expect(out).toContain("vcenter.lab.password");
    expect(out).toContain("got a number");
    expectNoLeak(r.stdout, r.stderr);
  });

  test("a syntax error on a secret's line", () => {
    const r = esxkit(["config", "check", "-c", file("syntax.toml", `[vcenter.lab]\npasswd = ${LEAKS[1]}\n`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TOML syntax");
    expect(r.stderr).toContain('passwd = "***"');
    expectNoLeak(r.stdout, r.stderr);
  });
});

test("config check: a [redfish] listen on a name is invalid, with file, line, key path and caret", () => {
  const p = file("listen-name.toml", `[redfish]\nlisten = "no-such-host.invalid:8000"\nusername = "admin"\npassword = "x"\n`);
  const r = esxkit(["config", "check", "--no-secrets", "-c", p]);
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith(`error: ${p}:2: redfish.listen: expected an IP address to listen on`);
  expect(r.stderr).toContain('2| listen = "no-such-host.invalid:8000"\n |          ^\n');
});

describe("config check --no-secrets", () => {
  const valid = `[vcenter.lab]\nurl = "https://vcsa.example/sdk"\nusername = "u"\npassword = "env:NOT_SET_HERE"\n\n[esxi.e1]\nurl = "https://e1/sdk"\nusername = "root"\npassword = "credential:e1"\n\n[[bmc]]\nvm = "a"\nport = 7000\nusername = "admin"\npassword = "file:/nonexistent/esxkit-bmc"\n`;

  test("checks everything else without the secrets: exit 0", () => {
    const p = file("nosecrets.toml", valid);
    const strict = esxkit(["config", "check", "-c", p]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("environment variable NOT_SET_HERE is not set");
    const r = esxkit(["config", "check", "--no-secrets", "-c", p]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("valid (secrets not resolved: --no-secrets)");
    const j = esxkit(["config", "check", "--no-secrets", "--json", "-c", p]);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, secrets_checked: false });
  });

  test.each([
    ["env:1BAD", /expected env:NAME with a variable name/],
    ["credential:../x", /not a valid credential name/],
    ["file:", /expected file:PATH/],
  ])("still rejects a malformed reference %s", (ref, message) => {
    const r = esxkit(["config", "check", "--no-secrets", "-c", file("badref.toml", valid.replace("env:NOT_SET_HERE", ref))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("badref.toml:4: vcenter.lab.password:");
  });

  test("still checks an inline secret's IPMI length", () => {
    const r = esxkit(["config", "check", "--no-secrets", "-c", file("long.toml", valid.replace("file:/nonexistent/esxkit-bmc", "twenty-one-bytes-long"))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("IPMI passwords are at most 20 bytes");
    expect(r.stderr).not.toContain("twenty-one-bytes-long");
  });
});

test("slp allow: a bad CIDR is rejected with file:line, key path and a caret under the element", () => {
  const p = file("allow.toml", `[[slp]]\nhost = "esx.example"\nprofile = "lsi-msm"\nallow = ["10.0.0.1", "10.0.0.0/33"]\n`);
  const r = esxkit(["config", "check", "-c", p]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${p}:4: slp[0].allow[1]: expected an IPv4 address or CIDR like "192.0.2.0/24", got "10.0.0.0/33"`);
  expect(r.stderr).toContain(`4| allow = ["10.0.0.1", "10.0.0.0/33"]\n |                      ^`);
  expect(esxkit(["config", "check", "-c", file("allow-ok.toml", `[[slp]]\nhost = "esx.example"\nprofile = "lsi-msm"\nallow = ["10.0.0.1", "10.0.0.0/8", "0.0.0.0/0"]\n`)]).code).toBe(0);
});

function manyProblems(n: number): string {
  let s = '[vcenter.lab]\nurl = "https://v/sdk"\nusername = "u"\npassword = "env:X"\n';
  for (let i = 0; i < n; i++) s += `\n[[bmc]]\nvm = "vm${i}"\nport = "bad${i}"\nusername = "a"\npassword = "env:Y"\n`;
  return s;
}

describe("thousands of problems", () => {
  test("the output is capped: the first 20 in full and a count of the rest", () => {
    const r = esxkit(["config", "check", "-c", file("many.toml", manyProblems(6000))]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/^error: /gm)?.length).toBe(20);
    expect(r.stderr.trimEnd().endsWith("… and 5980 more problems (6000 in all)")).toBe(true);
    const j = esxkit(["config", "check", "--json", "-c", join(dir, "many.toml")]);
    const out = JSON.parse(j.stdout) as { problem_count: number; problems: unknown[] };
    expect(out.problem_count).toBe(6000);
    expect(out.problems).toHaveLength(6000);
  });

  // The issue sets a bound (6,000 problems took 32 s). The machine is shared and noisy: the
  // best of five runs, less the best start-up of the same binary on a tiny file, must stay under 1 s.
  test("6,000 problems are checked in under a second by the binary (start-up excluded)", () => {
    const best = (p: string) => {
      let b = Infinity;
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect(esxkit(["config", "check", "-c", p]).code).toBe(1);
        b = Math.min(b, performance.now() - t);
      }
      return b;
    };
    const startup = best(file("one.toml", manyProblems(1)));
    const many = best(file("many.toml", manyProblems(6000)));
    expect(many - startup).toBeLessThan(1000);
  });

  test("rendering scales linearly: 4× the problems cost about 4×, far from the 16× of a quadratic", () => {
    const cost = (n: number) => {
      const text = manyProblems(n);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        try {
          parseConfig(text, "m.toml", { env: {} });
        } catch (e) {
          String((e as Error).message);
        }
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    cost(6000); // warm the JIT
    const ratio = cost(6000) / cost(1500);
    expect(ratio).toBeLessThan(8);
  });
});
