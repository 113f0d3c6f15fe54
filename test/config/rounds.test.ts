// Which problems a broken config reports together (README, "Troubleshooting"): a syntax error
// alone; then every problem of form; then every other rule, the subsystem checks (the SLP
// reply size of src/slp/datagram-fit.ts) included. Through the loader `config check`,
// `serve` and reload use.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServiceConfig } from "../../src/daemon/config-checks.ts";
import { ConfigError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-rounds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// An attribute list too big for one UDP reply: with tcp = false, a subsystem check's problem.
const BIG = `[${Array.from({ length: 40 }, (_, i) => `"root/vendor-namespace-number-${String(i).padStart(2, "0")}"`).join(", ")}]`;
const slp = (host: string, extra = "") => `\n[[slp]]\nhost = "${host}"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\n${extra}`;
const oversized = slp("esx-big.example", `attributes = { Namespace = ${BIG} }\ntcp = false\n`);

test.each([
  ["a syntax error is reported alone", `${oversized}\n[[slp]]\nhost = \n`, ["TOML syntax"]],
  ["a problem of form holds back the rules between keys", `${slp("esx-a.example")}${slp("esx-a.example", 'port = "x"\n')}`, ["slp[1].port"]],
  ["a rule between keys and a subsystem check: both in one round", `${oversized}${slp("esx-a.example")}${slp("esx-a.example")}`, ["slp[0].tcp", "slp[2].host"]],
  ["the check's problem under a key a rule already reported is not repeated", slp("esx-a.example").replace('profile = "lsi-msm"', `attributes_file = "${join(dir, "missing.json")}"`), ["slp[0].attributes_file"]],
])("%s", (name, toml, expected) => {
  const file = join(dir, `${name.replace(/\W+/g, "-")}.toml`);
  writeFileSync(file, `[daemon]\nstate_dir = "${join(dir, "state")}"\n${toml}`);
  let err: unknown;
  try {
    loadServiceConfig(file, { checkStateDir: true });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const all = (err as ConfigError).all;
  expect(all.map((e) => e.keyPath ?? e.detail.split(":")[0]), all.map((e) => e.message).join("\n")).toEqual(expected);
});
