// An attribute list that cannot fit one UDP reply, with tcp = false, is a config error:
// OpenSLP clients (MSM) would get the overflow flag, retry over TCP and find nothing.
// Through the CLI (`esxkit config check`, text and --json) and the loader serve uses.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServiceConfig } from "../../src/daemon/config-checks.ts";
import type { ConfigError } from "../../src/errors.ts";

const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "esxkit-slp-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function esxkit(args: string[]) {
  const p = Bun.spawnSync([process.execPath, join(root, "src/main.ts"), ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" }, cwd: root });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

// 40 namespaces of 30 bytes each: about 1300 bytes of list on top of the profile's ~1000.
const BIG = `[${Array.from({ length: 40 }, (_, i) => `"root/vendor-namespace-number-${String(i).padStart(2, "0")}"`).join(", ")}]`;

function write(name: string, slp: string): string {
  const file = join(dir, name);
  writeFileSync(file, `# test\n[[slp]]\nhost = "esxi-big.example.jp"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\n${slp}`);
  return file;
}

describe("config check: attributes larger than one datagram", () => {
  test("tcp = false: invalid, at slp[0].tcp with its line and a caret, saying to set tcp = true", () => {
    const file = write("tcp-off.toml", `attributes = { Namespace = ${BIG} }\ntcp = false\n`);
    const r = esxkit(["config", "check", "-c", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:7: slp[0].tcp: the attribute reply for service:wbem:https://esxi-big.example.jp:5989 is`);
    expect(r.stderr).toMatch(/more than one 1400-byte UDP datagram: it goes out with the overflow flag/);
    expect(r.stderr).toContain("set tcp = true");
    expect(r.stderr).toMatch(/7\| tcp = false\n \|       \^/); // the caret under the value
  });

  test("tcp not written (default false): the error points at the [[slp]] table", () => {
    const file = write("tcp-default.toml", `attributes = { Namespace = ${BIG} }\n`);
    const r = esxkit(["config", "check", "--json", "-c", file]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.problems).toEqual([expect.objectContaining({ line: 2, key: "slp[0].tcp", message: expect.stringContaining("set tcp = true") })]);
  });

  test("tcp = true, or a list that fits: valid", () => {
    expect(esxkit(["config", "check", "-c", write("tcp-on.toml", `attributes = { Namespace = ${BIG} }\ntcp = true\n`)]).code).toBe(0);
    expect(esxkit(["config", "check", "-c", write("fits.toml", "tcp = false\n")]).code).toBe(0);
  });

  test("serve and reload load with the same rule", () => {
    const file = write("serve.toml", `attributes = { Namespace = ${BIG} }\n`);
    let err: ConfigError | undefined;
    try {
      loadServiceConfig(file);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.code).toBe("ESX_CONFIG");
    expect(err?.keyPath).toBe("slp[0].tcp");
  });
});
