// Serial consoles through the compiled binary, as an operator deploys them: `esxkit serve`
// with a user's config ([console] + a [[bmc]] with serial = true) wires the VM's serial port
// in the simulator, a fake ESXi host dials the vSPC for the VM, and the console is used
// through real ipmitool SOL (on a pty), `esxkit console`, `esxkit status` and /metrics,
// including a vMotion handover while SOL is active.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { readSerialState } from "../../src/vsphere/serial-console.ts";
import { buildBinary, binary, freePort, type ServeProcess, startServe, until } from "../support/daemon/serve.ts";
import { onPty } from "../support/ipmi/pty.ts";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";
import { VmEndpoint } from "../support/vspc/vm-endpoint.ts";

const PASSWORD = "e2e-console-pass";
const dir = mkdtempSync(join(tmpdir(), "esxkit-console-e2e-"));
const socket = join(dir, "run/control.sock");
const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", E2E_VC: "", E2E_BMC: PASSWORD };
const enc = (s: string) => new TextEncoder().encode(s);

let sim: Vcsim;
let serve: ServeProcess;
let vmName = "";
/** A VM its [[bmc]] selects by BIOS UUID, which a host does not always announce. */
let second: { name: string; uuid?: string };
let vspcPort = 0;
let bmcPort = 0;
let metricsPort = 0;
let vm: VmEndpoint | undefined;

async function cli(args: string[]) {
  const p = Bun.spawn([binary, ...args, "--socket", socket], { env, cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function statusJson(): Promise<{ services: Array<Record<string, unknown>> }> {
  const r = await cli(["status", "--json"]);
  return JSON.parse(r.out) as { services: Array<Record<string, unknown>> };
}

async function esxkitPorts() {
  const client = await simClient();
  const found = (await listVms(client)).find((v) => v.name === vmName);
  const state = await readSerialState(client, (found as NonNullable<typeof found>).ref);
  await client.close();
  return state.ports.filter((p) => p.esxkit);
}
const simClient = () => VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
const bmcStatus = async () => (await statusJson()).services.find((s) => s.kind === "bmc" && s.name === "web01") as { serial?: { connected: boolean; watchers: unknown[]; wiring?: { state: string } }; sol?: { active: boolean } } | undefined;
const ipmitool = () => ["ipmitool", "-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", PASSWORD];

beforeAll(async () => {
  buildBinary();
  sim = await startVcsim({ args: ["-vm", "2"] });
  env.E2E_VC = sim.password;
  const client = await simClient();
  const sorted = (await listVms(client)).sort((a, b) => a.name.localeCompare(b.name));
  vmName = (sorted[0] as { name: string }).name;
  second = sorted[1] as { name: string; uuid?: string };
  await client.close();
  [vspcPort, bmcPort, metricsPort] = [await freePort("tcp"), await freePort(), await freePort("tcp")];
  writeFileSync(
    join(dir, "config.toml"),
    `[daemon]
state_dir = "${join(dir, "state")}"
control_socket = "${socket}"
metrics_listen = "127.0.0.1:${metricsPort}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:E2E_VC"
thumbprint = "${sim.thumbprintSha256}"

[console]
listen = "127.0.0.1:${vspcPort}"
proxy_uri = "telnet://127.0.0.1:${vspcPort}"

[[bmc]]
name = "web01"
vm = "${vmName}"
address = "127.0.0.1"
port = ${bmcPort}
username = "admin"
password = "env:E2E_BMC"
serial = true

[[bmc]]
name = "byuuid"
vm_uuid = "${second.uuid}"
address = "127.0.0.1"
port = ${await freePort()}
username = "admin"
password = "env:E2E_BMC"
serial = true
`,
  );
  serve = await startServe({ config: join(dir, "config.toml"), cwd: dir, env });
  await until("esxkit to serve", () => serve.lines("esxkit serving").length > 0, 30_000, () => serve.log());
});

afterAll(async () => {
  vm?.close();
  await serve?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("serial = true wires the VM's serial port to the vSPC in vCenter", async () => {
  await until("the serial port to be wired", async () => (await bmcStatus())?.serial?.wiring?.state === "wired", 30_000, () => serve.log());
  const ours = await esxkitPorts();
  expect(ours).toHaveLength(1);
  expect(ours[0]?.backing).toMatchObject({ kind: "uri", direction: "server", serviceUri: "esxkit:web01", proxyUri: `telnet://127.0.0.1:${vspcPort}` });
  expect(ours[0]).toMatchObject({ startConnected: true, yieldOnPoll: true });
});

test("the VM's host connects; what the VM writes is kept and shown by esxkit console --log", async () => {
  vm = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: "esxkit:web01", direction: "server", name: vmName }, echo: true });
  await until("the console to show connected", async () => (await bmcStatus())?.serial?.connected === true, 10_000, () => serve.log());
  vm.write(enc("BIOS POST\r\nGRUB loading\r\n"));
  await until("the log to hold the boot", async () => (await cli(["console", "web01", "--log"])).out.includes("GRUB loading"), 10_000);
  const list = await cli(["console"]);
  expect(list.out).toMatch(/web01\s+yes\s+127\.0\.0\.1:\d+/);
});

test("ipmitool sol activate sees the VM, types into it, and keeps going across a vMotion", async () => {
  const v = vm as VmEndpoint;
  const pty = onPty(
    [
      { expect: "SOL Session operational", timeout: 20 },
      { send: "root\r" },
      { expect: "root", timeout: 10 },
      { expect: "after-vmotion", timeout: 20 },
      { send: "~." },
      { exit_timeout: 10 },
    ],
    [...ipmitool(), "sol", "activate"],
    60_000,
  );
  await until("the keystrokes at the VM", () => Buffer.concat(v.input).toString().includes("root\r"), 20_000, () => serve.log());
  expect((await bmcStatus())?.sol?.active).toBe(true);
  expect(await v.vmotion("complete")).toBe("complete");
  // The console now shows the target host's connection, not the closed source one.
  expect((await cli(["console"])).out).toContain(`127.0.0.1:${v.current.socket.localPort}`);
  expect((await cli(["status"])).out).toMatch(/web01\s+active: admin from 127\.0\.0\.1:\d+\s+wired/);
  v.write(enc("after-vmotion\r\n"));
  const r = await pty;
  expect(r.ok).toBe(true);
  expect(r.exit_code).toBe(0);
  const status = await statusJson();
  const vspc = status.services.find((s) => s.kind === "console") as { vmotionsCompleted: number; listening: boolean };
  expect(vspc).toMatchObject({ listening: true, vmotionsCompleted: 1 });
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(metrics).toMatch(/esxkit_console_bytes_total\{console="web01",direction="to_vm"\} [1-9]/);
  expect(metrics).toMatch(/esxkit_console_connected\{console="web01"\} 1/);
  expect(metrics).toMatch(/esxkit_ipmi_sol_active\{bmc="web01"\} 0/);
});

test("ipmitool's ~B reaches the VM's host as one telnet break (IAC BRK) and nothing else", async () => {
  const v = vm as VmEndpoint;
  const inputBefore = Buffer.concat(v.input).length;
  const breaksBefore = v.breaks.length;
  const pty = onPty(
    [
      { expect: "SOL Session operational", timeout: 20 },
      { send: "~B" },
      { expect: "send break", timeout: 10 },
      { wait_file: join(dir, "break-seen"), timeout: 20 },
      { send: "~." },
      { exit_timeout: 10 },
    ],
    [...ipmitool(), "sol", "activate"],
    60_000,
  );
  try {
    await until("the break at the VM's host", () => v.breaks.length > breaksBefore, 20_000, () => serve.log());
  } finally {
    writeFileSync(join(dir, "break-seen"), "");
  }
  const done = await pty;
  expect(done.output).toContain("[send break]");
  expect(done.ok).toBe(true);
  expect(done.exit_code).toBe(0);
  await Bun.sleep(200);
  // Exactly one break, after every byte typed before it, and not one stray byte (no "~B" as text).
  expect(v.breaks.slice(breaksBefore)).toEqual([inputBefore]);
  expect(Buffer.concat(v.input).length).toBe(inputBefore);
  expect(v.otherCommands).toEqual([]);
  const consoles = ((await statusJson()).services.find((s) => s.kind === "console") as { consoles: Array<{ name: string; breaks_to_vm: number }> }).consoles;
  expect(consoles.find((c) => c.name === "web01")?.breaks_to_vm).toBe(1);
}, 60_000);

test("esxkit console on a terminal: the VM's output, typing into it, and Enter ~ . to detach", async () => {
  const v = vm as VmEndpoint;
  const before = Buffer.concat(v.input).toString().length;
  const r = await onPty(
    [
      { expect: "attached to web01", timeout: 15 },
      { send: "uname\r" },
      { expect: "uname", timeout: 10 },
      { send: "~." },
      { expect: "detached from web01", timeout: 10 },
      { exit_timeout: 10 },
    ],
    [binary, "console", "web01", "--socket", socket],
    40_000,
  );
  expect(r.ok).toBe(true);
  expect(r.exit_code).toBe(0);
  // The escape itself never reaches the VM.
  expect(Buffer.concat(v.input).toString().slice(before)).toBe("uname\r");
});

test("a VM that is not ours is refused with a log line naming why", async () => {
  const stranger = VmEndpoint.start({ port: vspcPort, identity: { serviceUri: "someone-else", direction: "server", name: "not-configured" } });
  await until("the refusal in the log", () => serve.lines("VM serial connection refused").length > 0, 10_000, () => serve.log());
  expect(String(serve.lines("VM serial connection refused")[0]?.reason)).toContain('no [[bmc]] with serial = true matches serviceURI "someone-else"');
  stranger.close();
  // The same host dialling again is refused each time, but logged once a minute, not per attempt.
  const refusedNow = async () => Number(((await statusJson()).services.find((s) => s.kind === "console") as { refused: number }).refused);
  const before = await refusedNow();
  const again = [1, 2, 3].map(() => VmEndpoint.start({ port: vspcPort, identity: { serviceUri: "someone-else", direction: "server", name: "not-configured" } }));
  await until("three more refusals", async () => (await refusedNow()) >= before + 3, 10_000, () => serve.log());
  for (const a of again) a.close();
  expect(serve.lines("VM serial connection refused").filter((l) => String(l.reason).includes('"someone-else"'))).toHaveLength(1);
});

test("a BMC selected by BIOS UUID checks the name its host announces against vCenter's", async () => {
  const wrong = VmEndpoint.start({ port: vspcPort, identity: { serviceUri: "esxkit:byuuid", direction: "server", name: vmName } });
  await until("the refusal", () => serve.lines("VM serial connection refused").some((l) => String(l.reason).includes(`announced name "${vmName}", not "${second.name}"`)), 10_000, () => serve.log());
  wrong.close();
  const right = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: "esxkit:byuuid", direction: "server", name: second.name } });
  await until("the console to connect", async () => (await cli(["console"])).out.match(/byuuid\s+yes/) !== null, 10_000, () => serve.log());
  right.close();
});

test("a reload with a new proxy_uri re-points the VM's port (and only esxkit's port)", async () => {
  const file = join(dir, "config.toml");
  writeFileSync(file, readFileSync(file, "utf8").replace(`proxy_uri = "telnet://127.0.0.1:${vspcPort}"`, `proxy_uri = "telnet://localhost:${vspcPort}"`));
  serve.proc.kill("SIGHUP");
  await until("the port to point at the new proxy URI", async () => {
    const ports = await esxkitPorts();
    return ports.length === 1 && ports[0]?.backing.kind === "uri" && ports[0].backing.proxyUri === `telnet://localhost:${vspcPort}`;
  }, 30_000, () => serve.log());
});

test("after the daemon stopped, esxkit console --log reads the kept files from state_dir", async () => {
  await serve.stop();
  const p = Bun.spawn([binary, "console", "web01", "--log", "-c", join(dir, "config.toml")], { env, cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  expect(err).toContain("the daemon is not running; showing the log files under");
  expect(out).toContain("BIOS POST\r\nGRUB loading\r\n");
});
