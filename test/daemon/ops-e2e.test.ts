// Operations hardening through the compiled binary, as an operator meets it: a RAKP flood
// from 127.0.0.3 is rate limited while ipmitool still logs in, the refusals show in the log
// and in /metrics, `bmc list`, `status` and /metrics count the same sessions, unicast SA
// discovery is answered, `config check` refuses an oversized attribute list with tcp off, and
// the last command reads as words in `bmc list` and `status` (and as the object with --json).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { rakpFlood } from "../support/ipmi/rakp-flood.ts";
import { freePort, pump, until as untilWithLog } from "../support/daemon/serve.ts";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";

const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");
const dir = mkdtempSync(join(tmpdir(), "esxkit-ops-e2e-"));
const configPath = join(dir, "config.toml");
const socket = join(dir, "control.sock");
const PASSWORD = "ops-bmc-pass";
const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", E2E_VC: "", E2E_BMC: PASSWORD };

let sim: Vcsim;
let vm = "";
let bmcPort = 0;
let slpPort = 0;
let metricsPort = 0;
let esxkit: Subprocess<"ignore", "pipe", "pipe">;
let daemonLog = "";

async function cli(args: string[]) {
  const p = Bun.spawn([binary, ...args], { env, cwd: dir, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), 20_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  return untilWithLog(what, probe, ms, () => `--- esxkit log ---\n${daemonLog.slice(-3000)}`);
}

const logLines = () =>
  daemonLog
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root });
  expect(build.exitCode).toBe(0);
  sim = await startVcsim({ mode: "vpx", args: ["-cluster", "0", "-host", "1", "-vm", "1"] });
  env.E2E_VC = sim.password;
  const client = await VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
  vm = (await listVms(client)).map((v) => v.name).sort()[0]!;
  await client.close();
  bmcPort = await freePort();
  slpPort = await freePort();
  metricsPort = await freePort("tcp");
  writeFileSync(
    configPath,
    `[daemon]
state_dir = "${join(dir, "state")}"
control_socket = "${socket}"
metrics_listen = "127.0.0.1:${metricsPort}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:E2E_VC"
thumbprint = "${sim.thumbprintSha256}"

[[bmc]]
vm = "${vm}"
address = "127.0.0.1"
port = ${bmcPort}
username = "admin"
password = "env:E2E_BMC"
logins_per_minute_per_source = 30

[[slp]]
host = "esxi-ops.example.local"
profile = "lsi-msm"
interfaces = ["127.0.0.1"]
port = ${slpPort}
`,
    { mode: 0o600 },
  );
  esxkit = Bun.spawn([binary, "serve", "-c", configPath, "--log-format", "json"], { env, cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void pump(esxkit.stdout, (c) => (daemonLog += c));
  void pump(esxkit.stderr, (c) => (daemonLog += c));
  await until("the BMC listening", () => logLines().some((l) => l.msg === "BMC listening"), 60_000);
}, 300_000);

afterAll(async () => {
  esxkit?.kill("SIGTERM");
  await Promise.race([esxkit?.exited, Bun.sleep(5000)]);
  esxkit?.kill("SIGKILL");
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type BmcRow = { name: string; sessions: number; pendingSessions: number };

async function counts() {
  const list = JSON.parse((await cli(["bmc", "list", "--socket", socket, "--json"])).out) as BmcRow[];
  const status = JSON.parse((await cli(["status", "--socket", socket, "--json"])).out) as { services: Array<BmcRow & { kind: string }> };
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}\\{bmc="${vm}"\\} (\\d+)$`, "m").exec(text)?.[1]);
  const s = status.services.find((x) => x.kind === "bmc")!;
  return {
    list: { sessions: list[0]!.sessions, pending: list[0]!.pendingSessions },
    status: { sessions: s.sessions, pending: s.pendingSessions },
    metrics: { sessions: gauge("esxkit_ipmi_sessions"), pending: gauge("esxkit_ipmi_sessions_pending") },
    text,
  };
}

describe("esxkit serve (compiled binary): IPMI logins", () => {
  test("a RAKP flood from 127.0.0.3 is cut at its burst; ipmitool still logs in; bmc list, status and /metrics agree", async () => {
    const shell = Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", PASSWORD, "-N", "1", "-R", "2", "shell"], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    void pump(shell.stdout, (c) => (out += c));
    void pump(shell.stderr, (c) => (out += c));
    try {
      shell.stdin.write("chassis power status\n");
      shell.stdin.flush();
      await until("the ipmitool shell's answer", () => /Chassis Power is (on|off)/.test(out), 30_000);

      const flood = await rakpFlood(bmcPort, "127.0.0.3", "admin", 40);
      expect(flood.codes).toBeGreaterThanOrEqual(10); // burst: 30 a minute / 3
      expect(flood.codes).toBeLessThanOrEqual(12);
      expect(flood.refused[1]).toBe(40 - flood.codes);

      const c = await counts();
      expect(c.list).toEqual({ sessions: 1, pending: flood.codes });
      expect(c.status).toEqual(c.list);
      expect(c.metrics).toEqual(c.list);
      expect((await cli(["bmc", "list", "--socket", socket])).out).toMatch(new RegExp(`\\s1 \\+${flood.codes} pending\\s`));
      expect(c.text).toContain(`esxkit_ipmi_login_failures_total{bmc="${vm}",reason="rate_limited"} ${40 - flood.codes}`);

      // The same user from 127.0.0.1 is not locked out.
      const r = Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", PASSWORD, "chassis", "power", "status"], { stdout: "pipe", stderr: "pipe" });
      expect(await r.exited).toBe(0);
      expect(await new Response(r.stdout).text()).toMatch(/Chassis Power is (on|off)/);

      const first = await until("the login-failure line", () => logLines().find((l) => l.msg === "IPMI login failed"));
      expect(first).toMatchObject({ level: "info", bmc: vm, reason: "rate_limited", client: expect.stringContaining("127.0.0.3:") });
      // One line for the whole flood so far; the rest waits for the window's summary.
      expect(logLines().filter((l) => String(l.msg).startsWith("IPMI login fail"))).toHaveLength(1);
    } finally {
      shell.stdin.write("exit\n");
      shell.stdin.end();
      await Promise.race([shell.exited, Bun.sleep(5000).then(() => shell.kill())]);
    }
  }, 90_000);
});

describe("esxkit serve (compiled binary): the last command", () => {
  const ipmitool = (...args: string[]) => Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", PASSWORD, ...args], { stdout: "pipe", stderr: "pipe" });
  /** The LAST COMMAND column of the BMC table in the output of `esxkit ARGS`. */
  const lastCell = async (args: string[]) => {
    const lines = (await cli([...args, "--socket", socket])).out.split("\n");
    const header = lines.find((l) => l.includes("LAST COMMAND")) ?? "";
    return lines.find((l) => l.startsWith(`${vm} `))?.slice(header.indexOf("LAST COMMAND"));
  };

  test.each([
    { what: "a success", args: ["chassis", "power", "status"], exit: 0, cell: /^Get Chassis Status ok, \d+ s ago, 127\.0\.0\.1$/, json: { name: "get_chassis_status", cc: 0, result: "ok", peer: "127.0.0.1" } },
    {
      what: "a failure",
      args: ["raw", "0x06", "0xff"],
      exit: 1,
      cell: /^NetFn 0x06 command 0xff failed: invalid command \(0xc1\), \d+ s ago, 127\.0\.0\.1$/,
      json: { name: "0x06_0xff", cc: 0xc1, result: "invalid command", peer: "127.0.0.1" },
    },
  ])("bmc list and status say $what for people; --json keeps the object", async ({ args, exit, cell, json }) => {
    expect(await ipmitool(...args).exited).toBe(exit);
    expect(await lastCell(["bmc", "list"])).toMatch(cell);
    expect(await lastCell(["status"])).toMatch(cell);
    const list = JSON.parse((await cli(["bmc", "list", "--socket", socket, "--json"])).out) as Array<{ lastCommand: Record<string, unknown> }>;
    expect(list[0]?.lastCommand).toEqual({ ...json, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    const status = JSON.parse((await cli(["status", "--socket", socket, "--json"])).out) as { services: Array<{ kind: string; lastCommand?: unknown }> };
    expect(status.services.find((x) => x.kind === "bmc")?.lastCommand).toEqual(list[0]?.lastCommand);
  }, 30_000);
});

describe("esxkit serve (compiled binary): SLP", () => {
  test("slp find service:service-agent --unicast gets the SAAdvert", async () => {
    const r = await cli(["slp", "find", "service:service-agent", "--unicast", "127.0.0.1", "--port", String(slpPort), "--timeout", "3000", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).services).toEqual([
      { url: "service:service-agent://127.0.0.1", lifetime: 0, responder: "127.0.0.1", scopes: "DEFAULT", attrList: "(service-type=service:wbem:https)" },
    ]);
  });

  test("config check refuses an oversized attribute list with tcp = false, and names the fix", async () => {
    const file = join(dir, "big.toml");
    const ns = Array.from({ length: 40 }, (_, i) => `"root/vendor-namespace-number-${i}"`).join(", ");
    writeFileSync(file, `[[slp]]\nhost = "esxi-big.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nattributes = { Namespace = [${ns}] }\n`);
    const r = await cli(["config", "check", "-c", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:1: slp[0].tcp: the attribute reply for service:wbem:https://esxi-big.example.local:5989 is`);
    expect(r.err).toContain("set tcp = true");
  });
});
