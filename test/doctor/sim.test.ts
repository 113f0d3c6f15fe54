// Each check against the govmomi simulator (test/vcsim) carrying the traps: a "traps" vCenter
// where every check fires, a "clean" vCenter where none does, and standalone ESXi hosts
// sharing a datastore for the watchdog readiness check (with pyghmi BMCs).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { EndpointConfig } from "../../src/config/types.ts";
import { endpointsFromConfig, runDoctor } from "../../src/doctor/index.ts";
import type { Finding, Report } from "../../src/doctor/types.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { toDevices } from "../../src/vsphere/convert.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { type Vcsim, type VcsimOptions, VcsimSet } from "../support/vcsim.ts";
import { freeTcpPort, freeUdpPort, startPyghmiBmc, stopAll } from "../support/doctor/peers.ts";

const sims = new VcsimSet();
const dirs: string[] = [];
afterAll(async () => {
  await sims.stopAll();
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sim = (opts: VcsimOptions): Promise<Vcsim> => sims.start(opts);

function endpoint(name: string, s: Vcsim): EndpointConfig {
  return { name, url: s.url, username: s.username, password: s.password, tls: { mode: "thumbprint", thumbprint: s.thumbprintSha256 }, timeout_ms: 10_000 };
}

/** The MAC address of a VM's first NIC, read through the API as any client would. */
async function macOf(s: Vcsim, vmName: string): Promise<string> {
  const client = await VimClient.connect(endpoint("mac-reader", s));
  try {
    const vms = await retrieveProperties(client, { type: "VirtualMachine", paths: ["name", "config.hardware.device"] });
    const vm = vms.find((v) => v.props.name === vmName);
    const mac = toDevices(vm?.props["config.hardware.device"]).find((d) => d.macAddress)?.macAddress;
    if (!mac) throw new Error(`no NIC with a MAC address on ${vmName}`);
    return mac;
  } finally {
    await client.close();
  }
}

const byRule = (r: Report, rule: string, target?: string): Finding[] => r.findings.filter((f) => f.rule === rule && (target === undefined || f.target === target));
const one = (r: Report, rule: string, target?: string): Finding => {
  const hits = byRule(r, rule, target);
  if (hits.length !== 1) throw new Error(`expected one ${rule}${target ? ` for ${target}` : ""}, got ${hits.length}: ${r.findings.map((f) => `${f.rule}@${f.target}`).join(", ")}`);
  return hits[0] as Finding;
};
const eventSummary = (f: Finding) => `${f.target}:${f.severity}:${f.title.split(": ")[1]?.split(" (")[0]}`;
const rulesWhere = (r: Report, keep: (f: Finding) => boolean) => r.findings.filter(keep).map((f) => `${f.rule}:${f.severity}`).sort();
const rulesOf = (r: Report, check: Finding["check"]) => rulesWhere(r, (f) => f.check === check);
const rulesFor = (r: Report, target: string) => rulesWhere(r, (f) => f.target === target);
/** What a watchdog that is ready in every respect reports. */
const READY = ["watchdog.bmc-ok:ok", "watchdog.datastore-ok:ok", "watchdog.network-ok:ok", "watchdog.placement-ok:ok"];

let traps: Report;
let clean: Report;
/** The traps vCenter read as if 31 days had passed: its events are then older than the look-back. */
let trapsLater: Report;

beforeAll(async () => {
  const [t, c] = await Promise.all([
    sim({
      mode: "vpx",
      args: ["-cluster", "2", "-standalone-host", "3"],
      vcVersion: "7.0.2",
      vcBuild: "17958471",
      hosts: {
        "*": { version: "7.0.3", build: "18644231", featureCapability: { "cpuid.MDCLEAR": "1", "cpuid.SSE3": "1" }, firewall: { CIMSLP: true } },
        DC0_C0_H0: { version: "7.0.2", build: "17867351", usbBoot: true },
        DC0_C0_H1: { version: "7.0.2", build: "17867351", featureCapability: { "cpuid.MDCLEAR": "0", "cpuid.SSE3": "1" } },
        DC0_C0_H2: { featureCapability: { "cpuid.MDCLEAR": "0", "cpuid.SSE3": "1" } },
        DC0_C1_H0: { usbBoot: true, configIssues: [{ eventTypeId: "esx.problem.boot.filesystem.down", message: "Lost connectivity to the device backing the boot filesystem" }] },
        DC0_C1_H1: { version: "6.5.0", build: "7967591" },
        DC0_C1_H2: { services: { slpd: { running: false, policy: "off" } }, firewall: { CIMSLP: false }, hbas: [{ device: "vmhba2", driver: "lsi_mr3", model: "MegaRAID SAS Invader Controller" }] },
        DC0_H0: { version: "6.5.0", build: "10175896" },
        DC0_H1: { connectionState: "disconnected", version: "7.0.2", build: "17630552", usbBoot: true },
        DC0_H2: { firewall: { CIMSLP: false } },
      },
      vms: { DC0_C0_RP0_VM0: { featureRequirement: { "cpuid.mdclear": "Bool:Min:1" } } },
      events: [
        { host: "DC0_C0_H0", eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "Resource cluster metadata corruption detected", severity: "error" },
        { host: "DC0_C1_H0", eventTypeId: "esx.problem.storage.apd.start", message: "Device mpx.vmhba32:C0:T0:L0 has entered the All Paths Down state" },
        { host: "DC0_C1_H1", eventTypeId: "esx.problem.storage.apd.start", message: "Device naa.1 has entered the All Paths Down state" },
        { host: "DC0_C1_H1", eventTypeId: "esx.problem.vmfs.heartbeat.corruptondisk", message: "At least one corrupt on-disk heartbeat region was detected on volume ds1" },
        // matched by its text, whatever event carries it
        { host: "DC0_C1_H2", eventTypeId: "esx.problem.3rdParty.error", message: "ALERT: Bootbank cannot be found at path '/bootbank'" },
      ],
    }),
    sim({
      mode: "vpx",
      vcVersion: "7.0.3",
      vcBuild: "20395099",
      hosts: { "*": { version: "7.0.3", build: "18644231", featureCapability: { "cpuid.MDCLEAR": "1", "cpuid.SSE3": "1" }, firewall: { CIMSLP: true } } },
    }),
  ]);
  const later = new Date(Date.now() + 31 * 86_400_000);
  [traps, clean, trapsLater] = await Promise.all([
    runDoctor({ endpoints: [endpoint("vc-traps", t)] }),
    runDoctor({ endpoints: [endpoint("vc-clean", c)] }),
    runDoctor({ endpoints: [endpoint("vc-traps", t)], now: later }),
  ]);
});

describe("doctor against the simulator: the traps vCenter and the clean one", () => {
  test("a disconnected host is reported and not judged", () => {
    expect(one(traps, "endpoint.host-not-connected", "DC0_H1").severity).toBe("info");
    expect(traps.findings.filter((f) => f.target === "DC0_H1" && f.check !== "endpoint")).toEqual([]);
  });

  test("exit codes: 2 with the traps, 0 when clean", () => {
    expect(traps.exitCode).toBe(2);
    expect(clean.exitCode).toBe(0);
    expect(clean.findings.filter((f) => f.severity !== "ok" && f.severity !== "info")).toEqual([]);
    expect(traps.targets[0]?.product).toBe("VMware vCenter Server 7.0.2 build-17958471");
  });

  test.each([
    [
      "1 EVC",
      () => {
        const f = one(traps, "evc.cold-cycle-mismatch", "cluster DC0_C0");
        expect(f.title).toContain("1 on DC0_C0_H0; 0 on DC0_C0_H1 and DC0_C0_H2");
        expect(f.evidence).toContainEqual({ object: "DC0_C0_H1", property: "config.featureCapability[cpuid.MDCLEAR]", value: "0" });
        expect(f.evidence.some((e) => e.object === "DC0_C0_RP0_VM0" && e.value.startsWith("Bool:Min:1"))).toBe(true);
        expect(f.fix).toContain("Cold power-cycle DC0_C0_H1 and DC0_C0_H2");
        one(traps, "evc.consistent", "cluster DC0_C1"); // the other cluster agrees
      },
      () => expect(rulesOf(clean, "evc")).toEqual(["evc.consistent:ok"]),
    ],
    [
      "2 upgrade order",
      () => {
        const f = one(traps, "upgrade-order.vcenter-older", "vc-traps");
        expect(f.severity).toBe("critical");
        expect(f.evidence).toContainEqual({ object: "vc-traps", property: "about.version", value: "7.0.2" });
        expect(f.evidence).toContainEqual({ object: "DC0_C0_H2", property: "config.product.version", value: "7.0.3" });
        expect(f.evidence.some((e) => e.object === "DC0_C0_H0")).toBe(false); // 7.0.2 like vCenter
      },
      () => expect(rulesOf(clean, "upgrade-order")).toEqual(["upgrade-order.ok:ok"]),
    ],
    [
      "3 USB/SD boot",
      () => {
        const crit = one(traps, "usb-boot.critical-build", "DC0_C0_H0");
        expect(crit.evidence).toContainEqual({ object: "DC0_C0_H0", property: "config.storageDevice.hostBusAdapter[vmhba32].driver", value: "vmkusb" });
        expect(crit.evidence).toContainEqual({ object: "DC0_C0_H0", property: "config.storageDevice.scsiLun[].canonicalName", value: "mpx.vmhba32:C0:T0:L0" });
        expect(one(traps, "usb-boot.7x", "DC0_C1_H0").severity).toBe("warning");
        // the same critical build on a local disk is not a USB finding
        expect(traps.findings.filter((f) => f.check === "usb-boot" && f.target === "DC0_C0_H1")).toEqual([]);
        const events = byRule(traps, "usb-boot.event");
        expect(events.map(eventSummary).sort()).toEqual([
          "DC0_C0_H0:critical:VMFS resource corrupt on disk",
          "DC0_C1_H0:critical:boot device lost",
          "DC0_C1_H0:warning:all paths down", // USB-booted; the same APD on DC0_C1_H1 (local disk) is not reported
          "DC0_C1_H1:critical:VMFS lock or heartbeat corrupt on disk",
          "DC0_C1_H2:critical:bootbank lost",
        ]);
        const bootDevice = events.find((f) => f.title.includes("boot device lost")) as Finding;
        expect(bootDevice.title).toContain("a current configIssue");
        expect(bootDevice.sources.map((s) => s.id)).toContain("virtuallyboring-bootfs");
        expect(events.find((f) => f.target === "DC0_C1_H2")?.evidence[0]?.value).toContain("Bootbank cannot be found at path '/bootbank'");
      },
      () => {
        expect(rulesOf(clean, "usb-boot")).toEqual(["usb-boot.not-usb:ok"]);
        // 31 days on, only the host's current configIssue is left: events past the look-back are not reported
        expect(byRule(trapsLater, "usb-boot.event").map(eventSummary)).toEqual(["DC0_C1_H0:critical:boot device lost"]);
      },
    ],
    [
      "4 MSM discovery",
      () => {
        const v65 = one(traps, "msm-discovery.65-broken-build", "DC0_H0");
        expect(v65.title).toContain("6.5 EP09");
        expect(v65.severity).toBe("info"); // no MegaRAID adapter on DC0_H0
        expect(v65.snippet).toContain('host = "DC0_H0"');
        const slpd = one(traps, "msm-discovery.slpd-stopped", "DC0_C1_H2");
        expect(slpd.title).toContain("slpd is stopped and the CIMSLP firewall ruleset is disabled");
        expect(slpd.evidence).toContainEqual({ object: "DC0_C1_H2", property: "firewallInfo.ruleset[CIMSLP].enabled", value: "false" });
        expect(slpd.snippet).toContain('profile = "lsi-msm"');
        expect(slpd.severity).toBe("warning"); // an lsi_mr3 adapter: MSM has something to manage there
        expect(slpd.evidence).toContainEqual({ object: "DC0_C1_H2", property: "config.storageDevice.hostBusAdapter[vmhba2].driver", value: "lsi_mr3" });
        const closed = one(traps, "msm-discovery.cimslp-closed", "DC0_H2");
        expect(closed.title).toContain("the CIMSLP firewall ruleset is disabled");
        expect(closed.snippet).toContain('host = "DC0_H2"');
        // 6.5 U1g (before 8294253) with slpd running: no trap
        expect(traps.findings.filter((f) => f.check === "msm-discovery" && f.target === "DC0_C1_H1")).toEqual([]);
        expect(one(traps, "msm-discovery.ok").title).toContain("DC0_C1_H1");
      },
      () => {
        expect(rulesOf(clean, "msm-discovery")).toEqual(["msm-discovery.ok:ok"]);
        expect(one(clean, "msm-discovery.ok").evidence).toContainEqual({ object: "DC0_C0_H0", property: "serviceInfo.service[slpd].running", value: "true" });
      },
    ],
  ] as [string, () => void, () => void][])("check %s: positive on the traps, negative on the clean vCenter", (_, positive, negative) => {
    positive();
    negative();
  });
});

describe("doctor against standalone ESXi hosts: watchdog readiness", () => {
  let report: Report;
  /** A [[watchdog]] without self_host, with this machine posing as VM esxkit-b (on host b) or esxkit-a (on host a, with vcsa). */
  let apart: Report;
  let together: Report;
  let nowhere: Report;

  beforeAll(async () => {
    const shared = mkdtempSync(join(tmpdir(), "esxkit-doctor-ds-"));
    dirs.push(shared);
    const [uuidA, uuidB] = [randomUUID(), randomUUID()];
    const [a, b, c, e, bmcA, bmcB, silentBmc, deadApi] = await Promise.all([
      sim({
        mode: "esx",
        hostName: "esx-a.lab.example",
        hostUuid: uuidA,
        datastores: [{ dir: shared }],
        sharedVms: ["vcsa:on", "esxkit-a:on"],
        hosts: { "": { version: "7.0.2", build: "17630552", usbBoot: true } },
        events: [{ host: "", eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "corrupt on disk", severity: "error" }],
      }),
      sim({ mode: "esx", hostName: "esx-b.lab.example", hostUuid: uuidB, datastores: [{ dir: shared }], sharedVms: ["esxkit-b:on"] }),
      sim({ mode: "esx", hostName: "esx-c.lab.example" }),
      sim({ mode: "esx", hostName: "esx-e.lab.example", datastores: [{ dir: shared }] }),
      startPyghmiBmc(uuidA),
      startPyghmiBmc(uuidB),
      freeUdpPort(),
      freeTcpPort(),
    ]);
    const esxi = (name: string, s: Vcsim | undefined, bmcPort: number) =>
      [
        `[esxi.${name}]`,
        `url = "${s ? s.url : `https://127.0.0.1:${deadApi}/sdk`}"`,
        'username = "user"',
        'password = "pass"',
        s ? `thumbprint = "${s.thumbprintSha256}"` : "insecure = true",
        "timeout_ms = 3000",
        `bmc = { address = "127.0.0.1", port = ${bmcPort}, username = "admin", password = "secret" }`,
        "",
      ].join("\n");
    const toml = [
      esxi("a", a, bmcA),
      esxi("b", b, bmcB),
      esxi("c", c, silentBmc),
      esxi("d", undefined, silentBmc),
      // Host e with host a's BMC: the watchdog would fence the wrong machine through it.
      esxi("e", e, bmcA),
      '[[watchdog]]\nname = "crossed"\nvm = "vcsa"\nhosts = ["e", "b"]\nself_host = "b"\n',
      '[[watchdog]]\nname = "ready"\nvm = "vcsa"\nhosts = ["a", "b"]\nself_host = "b"\n',
      '[[watchdog]]\nname = "broken"\nvm = "vcsa"\nhosts = ["a", "c", "d"]\nself_host = "a"\n',
      '[[watchdog]]\nname = "missing"\nvm = "nope"\nhosts = ["b"]\n',
    ].join("\n");
    const config = parseConfig(toml, join(shared, "doctor.toml"));
    report = await runDoctor({ endpoints: endpointsFromConfig(config), config, bmcTimeoutMs: 1500, localMacs: [] });

    const auto = parseConfig([esxi("a", a, bmcA), esxi("b", b, bmcB), '[[watchdog]]\nname = "auto"\nvm = "vcsa"\nhosts = ["a", "b"]\n'].join("\n"), join(shared, "auto.toml"));
    const runAs = (localMacs: string[]) => runDoctor({ endpoints: endpointsFromConfig(auto), config: auto, bmcTimeoutMs: 1500, localMacs });
    [apart, together, nowhere] = await Promise.all([
      macOf(b, "esxkit-b").then((mac) => runAs([mac])),
      macOf(a, "esxkit-a").then((mac) => runAs([mac])),
      runAs(["00:50:56:00:00:01"]),
    ]);
  });

  test("negative: a ready watchdog (shared datastore, standard network, esxkit elsewhere, BMCs answer) is all ok", () => {
    expect(rulesFor(report, "watchdog ready")).toEqual(READY);
    const ds = one(report, "watchdog.datastore-ok", "watchdog ready");
    expect(ds.title).toContain("[shared-ds] vcsa/vcsa.vmx");
    expect(one(report, "watchdog.bmc-ok", "watchdog ready").evidence.map((e) => e.value)).toEqual(["chassis power off (RMCP+ cipher suite 3, administrator)", "chassis power off (RMCP+ cipher suite 3, administrator)"]);
    expect(one(report, "watchdog.network-ok", "watchdog ready").evidence[0]?.value).toBe('standard portgroup "VM Network"');
  });

  test("positive: a bmc entry that points at another host's BMC is critical (its GUID is the other host's uuid)", () => {
    const f = one(report, "watchdog.bmc-wrong-host", "watchdog crossed");
    expect(f.severity).toBe("critical");
    expect(f.title).toContain("is not e's");
    expect(f.evidence.map((e) => e.property)).toEqual(["Get System GUID", "hardware.systemInfo.uuid"]);
    expect(f.fix).toContain("Correct the bmc address of [esxi.e]");
    // b's own BMC is fine; a's BMC is judged against a's uuid in the other watchdogs.
    expect(one(report, "watchdog.bmc-ok", "watchdog crossed").title).toBe("The BMC of b answers");
    expect(byRule(report, "watchdog.bmc-wrong-host").map((x) => x.target)).toEqual(["watchdog crossed"]);
  });

  test("positive: missing datastore, esxkit on the same host, silent BMCs, an unreachable host", () => {
    expect(rulesFor(report, "watchdog broken")).toEqual([
      "watchdog.bmc-ok:ok",
      "watchdog.bmc-unreachable:critical",
      "watchdog.bmc-unreachable:critical",
      "watchdog.datastore-missing:critical",
      "watchdog.host-unreachable:critical",
      "watchdog.network-ok:ok",
      "watchdog.same-host:critical",
    ]);
    expect(one(report, "watchdog.datastore-missing", "watchdog broken").title).toContain("c (esx-c.lab.example) cannot see datastore shared-ds");
    expect(one(report, "watchdog.same-host", "watchdog broken").title).toContain("both run on esx-a.lab.example");
    expect(one(report, "endpoint.unreachable", "d").severity).toBe("critical");
  });

  test("self_host unset, esxkit found by its MAC address on another host: ok, and a hint to set self_host", () => {
    expect(rulesFor(apart, "watchdog auto")).toEqual([...READY, "watchdog.self-host-detected:info"]);
    expect(one(apart, "watchdog.placement-ok").title).toBe("esxkit (this machine, VM esxkit-b by its MAC address) on esx-b.lab.example and vcsa on esx-a.lab.example run on different hosts");
    const hint = one(apart, "watchdog.self-host-detected");
    expect(hint.fix).toStartWith('Set self_host = "b" in this [[watchdog]]');
    expect(hint.title).toContain("esxkit runs on esx-b.lab.example ([esxi.b])");
  });

  test("self_host unset, esxkit found by its MAC address on the protected VM's host: critical", () => {
    const f = one(together, "watchdog.same-host", "watchdog auto");
    expect(f.severity).toBe("critical");
    expect(f.title).toBe("esxkit (this machine, VM esxkit-a by its MAC address) and vcsa both run on esx-a.lab.example");
    expect(f.evidence.some((e) => e.object === "esxkit-a" && e.property === "config.hardware.device[].macAddress")).toBe(true);
    expect(together.exitCode).toBe(2);
  });

  test("self_host unset and no VM carries this machine's MAC: anti-affinity not checked (info)", () => {
    expect(byRule(nowhere, "watchdog.self-host-unknown", "watchdog auto").map((f) => f.severity)).toEqual(["info"]);
    expect(byRule(nowhere, "watchdog.same-host")).toEqual([]);
    expect(byRule(nowhere, "watchdog.placement-ok")).toEqual([]);
  });

  test("positive: a protected VM that does not exist", () => {
    expect(one(report, "watchdog.vm-not-found", "watchdog missing").title).toContain('"nope"');
  });

  test("host checks read through ESXi directly: USB boot, events through the event collector, one vMotion domain", () => {
    expect(one(report, "usb-boot.critical-build", "esx-a.lab.example").title).toContain("7.0 U2");
    expect(one(report, "usb-boot.event", "esx-a.lab.example").title).toContain("VMFS resource corrupt on disk");
    expect(one(report, "upgrade-order.no-vcenter").severity).toBe("info");
    expect(one(report, "evc.consistent").target).toBe("the ESXi hosts given directly");
  });
});

describe("doctor against vCenters: the protected VM's distributed portgroup binding", () => {
  let report: Report;

  beforeAll(async () => {
    const [staticVc, ephemeralVc, b, bmcB] = await Promise.all([
      // every DVPG is earlyBinding (static) by default, as in vCenter
      sim({ mode: "vpx", args: ["-standalone-host", "0", "-cluster", "1", "-vm", "1"] }),
      sim({ mode: "vpx", args: ["-cluster", "0", "-standalone-host", "1", "-vm", "1", "-portgroups", JSON.stringify({ DC0_DVPG0: { type: "ephemeral" } })] }),
      sim({ mode: "esx", hostName: "esx-b.lab.example" }),
      startPyghmiBmc(),
    ]);
    const vcenter = (name: string, s: Vcsim) => `[vcenter.${name}]\nurl = "${s.url}"\nusername = "user"\npassword = "pass"\nthumbprint = "${s.thumbprintSha256}"\n`;
    const toml = [
      vcenter("static", staticVc),
      vcenter("eph", ephemeralVc),
      `[esxi.b]\nurl = "${b.url}"\nusername = "user"\npassword = "pass"\nthumbprint = "${b.thumbprintSha256}"\nbmc = { address = "127.0.0.1", port = ${bmcB}, username = "admin", password = "secret" }\n`,
      '[[watchdog]]\nname = "static"\nvm = "DC0_C0_RP0_VM0"\nhosts = ["b"]\n',
      '[[watchdog]]\nname = "eph"\nvm = "DC0_H0_VM0"\nhosts = ["b"]\n',
    ].join("\n");
    const dir = mkdtempSync(join(tmpdir(), "esxkit-doctor-dvs-"));
    dirs.push(dir);
    const config = parseConfig(toml, join(dir, "doctor.toml"));
    report = await runDoctor({ endpoints: endpointsFromConfig(config), config, bmcTimeoutMs: 1500 });
  });

  test("positive: a static-binding (earlyBinding) portgroup is critical", () => {
    const f = one(report, "watchdog.network-static-dvs", "watchdog static");
    expect(f.title).toContain("DC0_DVPG0 with earlyBinding (non-ephemeral) port binding");
    expect(f.evidence[0]?.value).toBe('distributed portgroup "DC0_DVPG0", config.type=earlyBinding');
    expect(f.sources.map((s) => s.id)).toContain("kb-324492");
  });

  test("negative: an ephemeral portgroup is fine", () => {
    expect(byRule(report, "watchdog.network-static-dvs", "watchdog eph")).toEqual([]);
    expect(one(report, "watchdog.network-ok", "watchdog eph").evidence[0]?.value).toBe('distributed portgroup "DC0_DVPG0", config.type=ephemeral');
  });
});
