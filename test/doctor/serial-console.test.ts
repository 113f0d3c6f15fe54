// Check 7, serial console: the rules on hand-made facts (each trap and its healthy twin), then
// `runDoctor` on the simulator with a config whose [[bmc]] entries have serial = true.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkSerialConsole } from "../../src/doctor/checks/serial-console.ts";
import { endpointsFromConfig, runDoctor } from "../../src/doctor/index.ts";
import type { SerialConsoleFacts } from "../../src/doctor/serial-facts.ts";
import type { Finding } from "../../src/doctor/types.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import type { VmIdentity } from "../../src/vsphere/search.ts";
import { attachSerialPort } from "../../src/vsphere/serial-console.ts";
import { serialPortsOf } from "../../src/vsphere/serial-port.ts";
import { startSerialSim } from "../support/vsphere/serial-sim.ts";
import { SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const PROXY = "telnet://esxkit.example:13370";
const hostRef = { type: "HostSystem", value: "host-1" };
const port = (serviceURI: string, proxyURI = PROXY) => ({ $type: "VirtualSerialPort", key: 9000, deviceInfo: { label: "Serial port 1" }, backing: { $type: "VirtualSerialPortURIBackingInfo", serviceURI, direction: "server", proxyURI }, connectable: { connected: "true", startConnected: "true" }, controllerKey: 400, unitNumber: 0, yieldOnPoll: "true" });
const filePort = { $type: "VirtualSerialPort", key: 9000, deviceInfo: { label: "Serial port 1" }, backing: { $type: "VirtualSerialPortFileBackingInfo", fileName: "[ds] a.log" }, controllerKey: 400, unitNumber: 0 };

function facts(over: Partial<SerialConsoleFacts> & { devices?: unknown[] } = {}): SerialConsoleFacts {
  const { devices, ...rest } = over;
  return {
    bmc: "web",
    vcenter: "vc",
    serviceUri: "esxkit:web",
    proxyUri: PROXY,
    vmName: "web-vm",
    powerState: "poweredOn",
    ports: serialPortsOf(devices ?? [port("esxkit:web")]),
    firewall: { host: hostRef, hostName: "esx1", vSPC: true, remoteSerialPort: false, open: true },
    ...rest,
  };
}

const peer = (hostName: string, open: boolean) => ({ host: { type: "HostSystem", value: `host-${hostName}` }, hostName, vSPC: open, remoteSerialPort: false, open });

const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}`).sort();

describe("check 7: serial console, on hand-made facts", () => {
  test.each([
    ["right port, open host", facts(), ["serial-console.ok:ok"]],
    ["remoteSerialPort open is enough", facts({ firewall: { host: hostRef, hostName: "esx1", vSPC: false, remoteSerialPort: true, open: true } }), ["serial-console.ok:ok"]],
    ["no serial port", facts({ devices: [] }), ["serial-console.not-attached:warning"]],
    ["a foreign port", facts({ devices: [filePort] }), ["serial-console.foreign-port:warning"]],
    ["esxkit's port at another proxy", facts({ devices: [port("esxkit:web", "telnet://old:1")] }), ["serial-console.wrong-target:warning"]],
    ["both rulesets closed", facts({ firewall: { host: hostRef, hostName: "esx1", vSPC: false, remoteSerialPort: false, open: false } }), ["serial-console.firewall-closed:critical"]],
    ["no port and closed", facts({ devices: [], firewall: { host: hostRef, hostName: "esx1", vSPC: false, open: false } }), ["serial-console.firewall-closed:critical", "serial-console.not-attached:warning"]],
    ["VM not found", facts({ error: "no VM named web-vm", ports: [] }), ["serial-console.vm-not-found:warning"]],
    ["firewall not readable", facts({ firewall: undefined, firewallError: "NoPermission" }), ["serial-console.firewall-unknown:info"]],
    ["endpoint not read: nothing (the endpoint check says so)", facts({ skipped: true }), []],
    ["cluster peers open", facts({ peers: [peer("esx2", true)] }), ["serial-console.ok:ok"]],
    ["a closed cluster peer: ready here, warned for the move", facts({ peers: [peer("esx2", true), peer("esx3", false)] }), ["serial-console.ok:ok", "serial-console.vmotion-target-closed:warning"]],
    ["closed here and on a peer", facts({ firewall: { host: hostRef, hostName: "esx1", vSPC: false, remoteSerialPort: false, open: false }, peers: [peer("esx3", false)] }), ["serial-console.firewall-closed:critical", "serial-console.vmotion-target-closed:warning"]],
  ] as const)("%s", (_name, f, want) => {
    expect(rules(checkSerialConsole([f]))).toEqual([...want]);
  });

  test("a closed firewall names the host, both rulesets, and the command that opens it", () => {
    const [f] = checkSerialConsole([facts({ firewall: { host: hostRef, hostName: "esx1", vSPC: false, remoteSerialPort: false, open: false } })]);
    expect(f?.target).toBe("esx1");
    expect(f?.title).toContain("esx1, where web-vm runs, has firewall rulesets vSPC and remoteSerialPort closed");
    expect(f?.evidence).toEqual([
      { object: "esx1", property: "firewallInfo.ruleset[vSPC].enabled", value: "false" },
      { object: "esx1", property: "firewallInfo.ruleset[remoteSerialPort].enabled", value: "false" },
    ]);
    expect(f?.fix).toContain("esxcli network firewall ruleset set -r vSPC -e true");
  });

  test("closed vMotion targets are named, with their rulesets as evidence and the command that opens them", () => {
    const [f] = checkSerialConsole([facts({ peers: [peer("esx2", false), peer("esx3", false)] })]).filter((x) => x.rule === "serial-console.vmotion-target-closed");
    expect(f?.target).toBe("esx2 and esx3");
    expect(f?.title).toContain("after a vMotion there, web-vm's serial port cannot reach esxkit");
    expect(f?.evidence).toContainEqual({ object: "esx3", property: "firewallInfo.ruleset[vSPC].enabled", value: "false" });
    expect(f?.fix).toContain("Open the vSPC ruleset on esx2 and esx3 too");
  });

  test("a foreign port is named, and the fix says esxkit will not change it", () => {
    const [f] = checkSerialConsole([facts({ devices: [filePort] })]);
    expect(f?.title).toContain("Serial port 1 (file [ds] a.log)");
    expect(f?.fix).toContain("esxkit never changes a serial port it did not create. If Serial port 1 on web-vm is not needed");
  });

  test("not attached: the fix is the attach command for that bmc", () => {
    const [f] = checkSerialConsole([facts({ devices: [] })]);
    expect(f?.fix).toContain("esxkit vm serial attach web");
  });
});

describe("check 7 on the simulator", () => {
  const fx = new SimFixture();
  let sim: Vcsim;
  let c: VimClient;
  let open: VmIdentity;
  let closed: VmIdentity;
  beforeAll(async () => {
    ({ sim, c, open, closed } = await startSerialSim(fx));
    // The first is attached right; the second not at all.
    await attachSerialPort(c, open.ref, { serviceUri: "esxkit:good", proxyUri: PROXY });
  }, 120_000);
  afterAll(() => fx.cleanup());

  test("a ready BMC passes; one whose VM has no port on a closed host gets both findings", async () => {
    const config = parseConfig(
      `[vcenter.lab]\nurl = "${sim.url}"\nusername = "${sim.username}"\npassword = "${sim.password}"\nthumbprint = "${sim.thumbprintSha256}"\n\n[console]\nproxy_uri = "${PROXY}"\n\n` +
        `[[bmc]]\nname = "good"\nvm = "${open.name}"\nport = 6230\nusername = "a"\npassword = "b"\nserial = true\n\n` +
        `[[bmc]]\nname = "bad"\nvm = "${closed.name}"\nport = 6231\nusername = "a"\npassword = "b"\nserial = true\n\n` +
        `[[bmc]]\nname = "plain"\nvm = "${closed.name}"\nport = 6232\nusername = "a"\npassword = "b"\n`,
      "/tmp/esxkit-serial-doctor.toml",
    );
    const report = await runDoctor({ endpoints: endpointsFromConfig(config), config });
    const serial = report.findings.filter((f) => f.check === "serial-console");
    // good's VM runs on the open DC0_C0_H1, whose cluster peer DC0_C0_H0 is closed: warned for
    // the move. bad's VM runs on the closed host; its peer is open.
    expect(rules(serial)).toEqual(["serial-console.firewall-closed:critical", "serial-console.not-attached:warning", "serial-console.ok:ok", "serial-console.vmotion-target-closed:warning"]);
    const moved = serial.find((f) => f.rule === "serial-console.vmotion-target-closed");
    expect(moved?.target).toBe("DC0_C0_H0");
    expect(moved?.title).toContain(`after a vMotion there, ${open.name}'s serial port cannot reach esxkit`);
    const ok = serial.find((f) => f.rule === "serial-console.ok");
    expect(ok?.target).toBe("bmc good");
    expect(ok?.evidence).toContainEqual({ object: open.name, property: expect.stringMatching(/^config\.hardware\.device\[\d+\]$/), value: `Serial port (esxkit) (network server esxkit:good via ${PROXY}) [esxkit]` });
    expect(ok?.evidence).toContainEqual({ object: "DC0_C0_H1", property: "firewallInfo.ruleset[vSPC].enabled", value: "true" });
    expect(serial.find((f) => f.rule === "serial-console.not-attached")?.target).toBe("bmc bad");
    expect(serial.find((f) => f.rule === "serial-console.firewall-closed")?.target).toBe("DC0_C0_H0");
  });
});
