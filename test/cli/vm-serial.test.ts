// `esxkit vm serial attach|status|detach` through the compiled binary (dist/esxkit) against the
// simulator, with a real config file: attach by [[bmc]] name adds esxkit's port (read back from
// vSphere), again is "already attached", status says whether the VM's host has its vSPC ruleset
// open, a foreign port is named and left alone, detach removes only esxkit's port.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VimClient } from "../../src/vsphere/client.ts";
import { moref } from "../../src/vsphere/convert.ts";
import type { VmIdentity } from "../../src/vsphere/search.ts";
import { readSerialState } from "../../src/vsphere/serial-console.ts";
import { waitForTask } from "../../src/vsphere/tasks.ts";
import { esxkit } from "../support/config/binary.ts";
import { startSerialSim } from "../support/vsphere/serial-sim.ts";
import { SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const PROXY = "telnet://esxkit.example:13370";
const fx = new SimFixture();
let sim: Vcsim;
let c: VimClient;
/** [VM on the host with vSPC open, VM on the host with it closed]. */
let open: VmIdentity;
let closed: VmIdentity;
let dir: string;
let configFile: string;

beforeAll(async () => {
  ({ sim, c, open, closed } = await startSerialSim(fx));
  dir = mkdtempSync(join(tmpdir(), "esxkit-serial-cli-"));
  configFile = join(dir, "config.toml");
  writeFileSync(
    configFile,
    `[vcenter.lab]\nurl = "${sim.url}"\nusername = "user"\npassword = "env:SERIAL_VC_PW"\nthumbprint = "${sim.thumbprintSha256}"\n\n` +
      `[console]\nproxy_uri = "${PROXY}"\n\n` +
      `[[bmc]]\nname = "web"\nvm = "${open.name}"\nport = 6230\nusername = "admin"\npassword = "env:SERIAL_BMC_PW"\nserial = true\n`,
    { mode: 0o600 },
  );
}, 120_000);

afterAll(async () => {
  await fx.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (...argv: string[]) => esxkit([...argv, "-c", configFile], { SERIAL_VC_PW: sim.password, SERIAL_BMC_PW: "bmc-pw" });

describe("esxkit vm serial", () => {
  test("status of a VM without serial ports: not attached, the host's firewall open, its closed cluster peer named", () => {
    const r = run("vm", "serial", "status", "web");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${open.name}: not attached\n  no serial ports\nhost DC0_C0_H1: firewall open (vSPC enabled, remoteSerialPort disabled)\n` +
        "firewall also closed on DC0_C0_H0 in the same cluster: the console drops if the VM moves there\n",
    );
    expect(JSON.parse(run("vm", "serial", "status", "web", "--json").stdout).closed_vmotion_targets).toEqual(["DC0_C0_H0"]);
  });

  test("attach by [[bmc]] name adds esxkit's port, as vSphere then shows it", async () => {
    const r = run("vm", "serial", "attach", "web", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ vm: open.name, action: "add", port: { esxkit: true, backing: { kind: "uri", direction: "server", serviceUri: "esxkit:web", proxyUri: PROXY }, connected: true, start_connected: true, yield_on_poll: true }, firewall: { host: "DC0_C0_H1", vSPC: true, open: true } });
    const [port] = (await readSerialState(c, open.ref)).ports;
    expect(port).toMatchObject({ esxkit: true, backing: { serviceUri: "esxkit:web", proxyUri: PROXY, direction: "server" }, connected: true, startConnected: true, yieldOnPoll: true });
  });

  test("attach again (by the VM's name, which the [[bmc]] names): already attached", () => {
    const r = run("vm", "serial", "attach", open.name);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`${open.name}: already attached: Serial port (esxkit) (network server esxkit:web via ${PROXY})\n`);
  });

  test("status: attached to esxkit", () => {
    const r = run("vm", "serial", "status", "web");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${open.name}: attached to esxkit\n  Serial port (esxkit) (network server esxkit:web via ${PROXY}) [esxkit], connected\n`);
  });

  test("a VM on a host whose vSPC and remoteSerialPort rulesets are closed: said plainly, with the command that opens it", async () => {
    const r = run("vm", "serial", "attach", closed.name, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`no [[bmc]] names ${closed.name}`);
    expect(JSON.parse(r.stdout).firewall).toEqual({ host: "DC0_C0_H0", vSPC: false, remoteSerialPort: false, open: false });
    const s = run("vm", "serial", "status", closed.name);
    expect(s.stdout).toContain("host DC0_C0_H0: FIREWALL CLOSED (vSPC disabled, remoteSerialPort disabled): the host cannot dial esxkit");
    expect(s.stdout).toContain("esxcli network firewall ruleset set -r vSPC -e true");
    expect(run("vm", "serial", "detach", closed.name).stdout).toBe(`${closed.name}: removed Serial port (esxkit) (network server esxkit:${closed.name} via ${PROXY})\n`);
  });

  test("a foreign serial port: attach exits 1 naming it, detach leaves it, status marks it", async () => {
    const foreign = { $type: "VirtualSerialPort", key: -601, deviceInfo: { $type: "Description", label: "Serial port 1", summary: "" }, backing: { $type: "VirtualSerialPortFileBackingInfo", fileName: "[LocalDS_0] serial.log" }, connectable: { $type: "VirtualDeviceConnectInfo", startConnected: true, allowGuestControl: true, connected: true }, controllerKey: 400, unitNumber: 1, yieldOnPoll: false };
    const task = moref(await c.call("ReconfigVM_Task", closed.ref, { spec: { $type: "VirtualMachineConfigSpec", deviceChange: [{ $type: "VirtualDeviceConfigSpec", operation: "add", device: foreign }] } }));
    await waitForTask(c, task!, { timeoutMs: 10_000 });
    const before = (await readSerialState(c, closed.ref)).ports;
    const r = run("vm", "serial", "attach", closed.name);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Serial port 1 (file [LocalDS_0] serial.log)");
    expect(r.stderr).toContain("ESX_SERIAL_FOREIGN");
    expect(r.stderr).not.toContain("powered on"); // the refusal is esxkit's, not vSphere's
    const d = run("vm", "serial", "detach", closed.name);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(`${closed.name}: no esxkit serial port; left alone (not esxkit's): Serial port 1 (file [LocalDS_0] serial.log)\n`);
    expect(run("vm", "serial", "status", closed.name).stdout).toContain("  Serial port 1 (file [LocalDS_0] serial.log) [not esxkit's: left alone], connected\n");
    expect((await readSerialState(c, closed.ref)).ports).toEqual(before);
  });

  test("detach by [[bmc]] name removes esxkit's port", async () => {
    const r = run("vm", "serial", "detach", "web", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ vm: open.name, removed: [{ backing: { serviceUri: "esxkit:web" } }], kept: [] });
    expect((await readSerialState(c, open.ref)).ports).toEqual([]);
  });

  test("an unknown VM: exit 1 naming it", () => {
    const r = run("vm", "serial", "status", "no-such-vm");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no-such-vm");
  });
});
