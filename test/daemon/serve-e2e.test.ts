// The compiled binary end to end, as systemd and an operator drive it: start (READY over
// $NOTIFY_SOCKET), status, an IPMI session that survives an unrelated reload, a reload
// with a changed config and with a broken one, metrics, and SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { freePort, listenNotify, pump, until as waitUntil } from "../support/daemon/serve.ts";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";

const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");
const dir = mkdtempSync(join(tmpdir(), "esxkit-e2e-"));
const configPath = join(dir, "config.toml");
const socket = join(dir, "run/control.sock");
const notifySocket = join(dir, "notify.sock");
const PASSWORD = "e2e-bmc-pass";
const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", E2E_VC: "", E2E_BMC: PASSWORD, NOTIFY_SOCKET: notifySocket };

let sim: Vcsim;
let vmNames: string[] = [];
let ports: number[] = [];
let metricsPort = 0;
let closedPort = 0;
let esxkit: Subprocess<"ignore", "pipe", "pipe">;
let notify: Subprocess<"ignore", "pipe", "inherit">;
const notifications: string[] = [];
let daemonLog = "";

function writeConfig(opts: { bmcs: number; slpLifetime: number; broken?: boolean; noSlp?: boolean }): void {
  const bmcs = vmNames.slice(0, opts.bmcs).map(
    (vm, i) => `
[[bmc]]
vm = "${vm}"
address = "127.0.0.1"
port = ${ports[i]}
username = "admin"
password = "env:E2E_BMC"
`,
  );
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
${bmcs.join("")}
${
      opts.noSlp
        ? ""
        : `[[slp]]
host = "esxi-e2e.example.local"
profile = "lsi-msm"
interfaces = ["127.0.0.1"]
port = ${ports[3]}
lifetime = ${opts.slpLifetime}
`
    }
# A watchdog whose hosts do not answer: it starts, learns nothing, and can be paused.
[esxi.esx-a]
url = "https://127.0.0.1:${closedPort}/sdk"
username = "root"
password = "env:E2E_BMC"
insecure = true
timeout_ms = 500
bmc = { address = "127.0.0.1", port = ${closedPort}, username = "ADMIN", password = "env:E2E_BMC" }

[[watchdog]]
name = "vcsa"
vm = "vcsa01"
hosts = ["esx-a"]
probe_interval_ms = 1000
probe_timeout_ms = 300
${opts.broken ? "\n[[bmc]]\nport = 0x\n" : ""}`,
    { mode: 0o600 },
  );
}

function cli(args: string[]) {
  const p = Bun.spawnSync([binary, ...args], { env, cwd: dir });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

type Status = { services: Array<{ kind: string; name: string; sessions?: number }>; last_reload?: { ok: boolean; error?: string } };
const status = () => JSON.parse(cli(["status", "--socket", socket, "--json"]).out) as Status;

const until = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000) => waitUntil(what, probe, ms, () => `--- esxkit log ---\n${daemonLog.slice(-3000)}`);

beforeAll(async () => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root });
  expect(build.exitCode).toBe(0);
  sim = await startVcsim({ mode: "vpx", args: ["-cluster", "0", "-host", "1", "-vm", "3"] });
  env.E2E_VC = sim.password;
  const client = await VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
  vmNames = (await listVms(client)).map((v) => v.name).sort();
  await client.close();
  ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  metricsPort = await freePort("tcp");
  closedPort = await freePort("tcp");
  writeConfig({ bmcs: 2, slpLifetime: 600 });

  notify = await listenNotify(notifySocket, notifications, 120);

  esxkit = Bun.spawn([binary, "serve", "-c", configPath, "--log-format", "json"], { env, cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void pump(esxkit.stdout, (c) => (daemonLog += c));
  void pump(esxkit.stderr, (c) => (daemonLog += c));
}, 300_000);

afterAll(async () => {
  esxkit?.kill("SIGKILL");
  notify?.kill();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("esxkit serve (compiled binary)", () => {
  test("tells systemd it is ready, with a status line", async () => {
    const ready = await until("READY=1", () => notifications.find((n) => n.startsWith("READY=1")));
    expect(ready).toContain("STATUS=2 BMC, 1 SLP, 1 watchdog");
  });

  test("esxkit status lists the running BMCs and the SLP entry", async () => {
    const s = await until("status over the control socket", () => status());
    expect(s.services.filter((x) => x.kind === "bmc").map((x) => x.name)).toEqual(vmNames.slice(0, 2));
    expect(s.services.filter((x) => x.kind === "slp").map((x) => x.name)).toEqual(["esxi-e2e.example.local"]);
    const table = cli(["status", "--socket", socket]);
    expect(table.code).toBe(0);
    expect(table.out).toContain(`127.0.0.1:${ports[0]}`);
  });

  test("an IPMI session survives a reload that changes other entries; the changed ones are applied", async () => {
    const shell = Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(ports[0]), "-U", "admin", "-P", PASSWORD, "-N", "1", "-R", "2", "shell"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    let out = "";
    void pump(shell.stdout, (c) => (out += c));
    void pump(shell.stderr, (c) => (out += c));
    shell.stdin.write("chassis power status\n");
    await until("the first answer in the ipmitool shell", () => /Chassis Power is (on|off)/.test(out), 30_000);

    // Unrelated change: a third BMC and a new SLP lifetime; the first BMC's entry is untouched.
    writeConfig({ bmcs: 3, slpLifetime: 900 });
    const r = cli(["reload", "--socket", socket, "--json"]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { started: string[]; restarted: string[]; unchanged: string[] };
    expect(result.started).toEqual([`bmc:${vmNames[2]}`]);
    expect(result.restarted).toEqual(["slp:esxi-e2e.example.local"]);
    expect(result.unchanged).toContain(`bmc:${vmNames[0]}`);

    const before = out.length;
    shell.stdin.write("chassis power status\n");
    await until("the second answer in the same session", () => /Chassis Power is (on|off)/.test(out.slice(before)), 30_000);
    expect(out.slice(before)).not.toMatch(/error|unable|timeout/i);
    shell.stdin.write("exit\n");
    await shell.exited;

    // The new BMC answers "busy" (C3h) until its first vCenter sync, then the real state.
    await until("the new BMC's first power status", () => {
      const third = Bun.spawnSync(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(ports[2]), "-U", "admin", "-P", PASSWORD, "chassis", "power", "status"]);
      return /Chassis Power is (on|off)/.test(third.stdout.toString());
    });
  }, 90_000);

  test("SIGHUP with a broken config keeps the running one and reports why", async () => {
    writeConfig({ bmcs: 3, slpLifetime: 900, broken: true });
    const reloadsBefore = notifications.filter((n) => n.startsWith("RELOADING=1")).length;
    esxkit.kill("SIGHUP");
    const s = await until("the rejected reload", () => {
      const st = status();
      return st.last_reload?.ok === false ? st : undefined;
    });
    expect(s.last_reload?.error).toContain("config.toml:");
    expect(s.services.filter((x) => x.kind === "bmc")).toHaveLength(3);
    await until("RELOADING=1", () => notifications.filter((n) => n.startsWith("RELOADING=1")).length === reloadsBefore + 1, 5000);
    const r = cli(["reload", "--socket", socket]);
    await until("RELOADING=1 for the control-API reload too", () => notifications.filter((n) => n.startsWith("RELOADING=1")).length === reloadsBefore + 2, 5000);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/config\.toml:\d+: TOML syntax: unfinished numeric value/);
    const ipmi = Bun.spawnSync(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(ports[1]), "-U", "admin", "-P", PASSWORD, "chassis", "power", "status"]);
    expect(ipmi.stdout.toString()).toMatch(/Chassis Power is (on|off)/);
  });

  test("watchdog pause --for and resume go through the control socket", async () => {
    const paused = cli(["watchdog", "pause", "vcsa", "--for", "2h", "--socket", socket]);
    expect(paused.err).toBe("");
    expect(paused.out).toContain("paused: vcsa for 2h");
    const wd = () => status().services.find((x) => x.kind === "watchdog") as Record<string, unknown>;
    expect(wd().paused).toBeTruthy();
    expect(cli(["watchdog", "resume", "--socket", socket]).out).toContain("resumed: vcsa");
    expect(wd().paused).toBeFalsy();
    const bad = cli(["watchdog", "pause", "nosuch", "--socket", socket]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('no watchdog named "nosuch"');
    expect(cli(["watchdog", "pause", "--for", "soon", "--socket", socket]).code).toBe(2);
  });

  test("/healthz and /metrics answer", async () => {
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(health.status).toBe(200);
    const m = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(m).toContain("esxkit_ipmi_requests_total{");
    expect(m).toContain('esxkit_services{kind="bmc"} 3');
    expect(m).toContain("esxkit_slp_");
    expect(m).toContain("esxkit_watchdog_");
    expect(m).toContain('esxkit_vcenter_request_seconds_count{endpoint="sim",method="WaitForUpdatesEx"}');
  });

  test("a reload that removes an entry stops only that entry", async () => {
    writeConfig({ bmcs: 3, slpLifetime: 900, noSlp: true });
    const r = cli(["reload", "--socket", socket, "--json"]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { stopped: string[]; unchanged: string[] };
    expect(result.stopped).toEqual(["slp:esxi-e2e.example.local"]);
    expect(result.unchanged.length).toBe(4);
    expect(status().services.map((x) => x.kind).sort()).toEqual(["bmc", "bmc", "bmc", "watchdog"]);
  });

  test("the log carries no secret", () => {
    expect(daemonLog).not.toContain(PASSWORD);
    expect(daemonLog).not.toContain(sim.password === "pass" ? "\u0000" : sim.password);
  });

  test("a second serve on the same config exits non-zero and leaves the first one reachable", async () => {
    const second = Bun.spawn([binary, "serve", "-c", configPath, "--log-format", "json"], { env: { ...env, NOTIFY_SOCKET: "" }, cwd: dir, stdout: "pipe", stderr: "pipe" });
    const code = await Promise.race([second.exited, Bun.sleep(20_000).then(() => "still running")]);
    const err = await new Response(second.stderr).text();
    const out = await new Response(second.stdout).text();
    if (code !== 1) second.kill("SIGKILL");
    expect(code).toBe(1);
    expect(err).toContain("another esxkit is already serving on");
    expect(out).not.toContain("BMC listening");
    expect(existsSync(socket)).toBe(true);
    expect(status().services.length).toBe(4);
  }, 30_000);

  test("a serve whose only service cannot start keeps running, says so, and retries (no exit, no lost services)", async () => {
    const lonely = join(dir, "lonely.toml");
    const lonelySocket = join(dir, "run2/control.sock");
    writeFileSync(
      lonely,
      `[daemon]\nstate_dir = "${join(dir, "state2")}"\ncontrol_socket = "${lonelySocket}"\n\n[vcenter.sim]\nurl = "${sim.url}"\nusername = "u"\npassword = "env:E2E_BMC"\nthumbprint = "${sim.thumbprintSha256}"\n\n[[bmc]]\nvm = "${vmNames[0]}"\naddress = "127.0.0.1"\nport = ${ports[0]}\nusername = "admin"\npassword = "env:E2E_BMC"\n`,
      { mode: 0o600 },
    );
    const p = Bun.spawn([binary, "serve", "-c", lonely], { env: { ...env, NOTIFY_SOCKET: "" }, cwd: dir, stdout: "pipe", stderr: "pipe" });
    try {
      const r = await until("the lonely serve's status", () => {
        const st = cli(["status", "--socket", lonelySocket, "--json"]);
        return st.out ? st : undefined;
      });
      expect(r.code).toBe(1);
      const s = JSON.parse(r.out) as { ok: boolean; services: Array<{ up: boolean; down?: { error: string } }> };
      expect(s.ok).toBe(false);
      expect(s.services[0]?.up).toBe(false);
      expect(s.services[0]?.down?.error).toMatch(/in use \(EADDRINUSE\)/);
      expect(p.exitCode).toBeNull();
    } finally {
      p.kill("SIGTERM");
      await Promise.race([p.exited, Bun.sleep(10_000).then(() => p.kill("SIGKILL"))]);
    }
  }, 30_000);

  test("a config.toml beside the executable is found without -c", () => {
    const portable = join(dir, "usb");
    mkdirSync(portable);
    copyFileSync(binary, join(portable, "esxkit"));
    copyFileSync(configPath, join(portable, "config.toml"));
    const p = Bun.spawnSync([join(portable, "esxkit"), "config", "check", "--json"], { env: { ...env, ESXKIT_CONFIG: "" }, cwd: "/" });
    expect(p.stderr.toString()).toBe("");
    expect(JSON.parse(p.stdout.toString()).file).toBe(join(portable, "config.toml"));
  });

  test("SIGTERM stops it cleanly: STOPPING=1, exit 0, control socket removed", async () => {
    esxkit.kill("SIGTERM");
    const code = await Promise.race([esxkit.exited, Bun.sleep(15_000).then(() => "still running")]);
    expect(code).toBe(0);
    await until("STOPPING=1", () => notifications.includes("STOPPING=1"), 5000);
    expect(existsSync(socket)).toBe(false);
  });
});
