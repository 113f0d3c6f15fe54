// The rules of each check on hand-made facts: every trap (positive) and its healthy twin (negative).
import { describe, expect, test } from "bun:test";
import { checkEvc } from "../../src/doctor/checks/evc.ts";
import { checkMsmDiscovery, slpSnippet } from "../../src/doctor/checks/msm-discovery.ts";
import { checkUpgradeOrder } from "../../src/doctor/checks/upgrade-order.ts";
import { checkUsbBoot } from "../../src/doctor/checks/usb-boot.ts";
import { checkWatchdog } from "../../src/doctor/checks/watchdog.ts";
import { inventoryFindings } from "../../src/doctor/run.ts";
import { localVmwareMacs } from "../../src/doctor/self-vm.ts";
import type { HostFacts } from "../../src/doctor/inventory.ts";
import type { Finding } from "../../src/doctor/types.ts";
import type { CandidateFacts, NicFacts, WatchdogFacts } from "../../src/doctor/watchdog-facts.ts";
import { parseConfig } from "../../src/config/load.ts";
import { event, host, inventory, usbBoot, vcenter, vm } from "../support/doctor/facts.ts";

const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}`).sort();
const only = (fs: Finding[], rule: string) => {
  const hit = fs.filter((f) => f.rule === rule);
  expect(hit).toHaveLength(1);
  return hit[0] as Finding;
};

describe("check 1: EVC / featureCapability", () => {
  test("MDCLEAR differs: a warning naming the hosts to cold-cycle and the VMs that need the feature", () => {
    const inv = inventory({
      hosts: [host("esx1"), host("esx2", { featureCapability: { "cpuid.MDCLEAR": "0", "cpuid.SSE3": "1" } }), host("esx3", { featureCapability: { "cpuid.MDCLEAR": "0", "cpuid.SSE3": "1" } })],
      vms: [vm("app1", "esx1", { featureRequirement: { "cpuid.mdclear": "Bool:Min:1" } }), vm("app2", "esx2"), vm("off", "esx1", { powerState: "poweredOff", featureRequirement: { "cpuid.mdclear": "Bool:Min:1" } })],
    });
    const f = only(checkEvc(inv), "evc.cold-cycle-mismatch");
    expect(f.severity).toBe("warning");
    expect(f.target).toBe("cluster C1");
    expect(f.title).toContain("1 on esx1; 0 on esx2 and esx3");
    expect(f.evidence).toContainEqual({ object: "esx2", property: "config.featureCapability[cpuid.MDCLEAR]", value: "0" });
    expect(f.evidence).toContainEqual({ object: "app1", property: "runtime.featureRequirement[cpuid.mdclear]", value: "Bool:Min:1 (running on esx1)" });
    expect(f.evidence.map((e) => e.object)).not.toContain("off");
    expect(f.fix).toContain("Cold power-cycle esx2 and esx3, one host at a time");
    expect(f.fix).toContain("maintenance mode → shut down → power off");
    expect(f.fix).toContain("reads 1");
    expect(checkEvc(inv).filter((x) => x.rule === "evc.feature-mismatch")).toHaveLength(0);
  });

  test("a host that lacks the key counts as a different value", () => {
    const inv = inventory({ hosts: [host("esx1"), host("esx2", { featureCapability: { "cpuid.SSE3": "1" } })] });
    const f = only(checkEvc(inv), "evc.cold-cycle-mismatch");
    expect(f.title).toContain("(absent) on esx2");
    expect(f.fix).toContain("Cold power-cycle esx2,");
  });

  test.each([
    ["no EVC mode: warning", undefined, "evc.feature-mismatch", "warning"],
    ["EVC mode set: masked, info", "intel-broadwell", "evc.feature-mismatch-masked", "info"],
  ])("other keys differ, %s", (_, evcMode, rule, severity) => {
    const cluster = { ref: { type: "ClusterComputeResource", value: "c1" }, name: "C1", ...(evcMode ? { evcMode } : {}) };
    const inv = inventory({ hosts: [host("esx1", { cluster }), host("esx2", { cluster, featureCapability: { "cpuid.MDCLEAR": "1", "cpuid.SSE3": "0", "cpuid.AVX": "1" } })] });
    const f = only(checkEvc(inv), rule);
    expect(f.severity).toBe(severity as Finding["severity"]);
    expect(f.title).toContain("2 featureCapability key(s) differ");
    expect(f.evidence).toContainEqual({ object: "esx1", property: "config.featureCapability[cpuid.AVX]", value: "(absent)" });
  });

  test("negative: identical values give one ok finding per cluster", () => {
    const inv = inventory({ hosts: [host("esx1"), host("esx2"), host("esx3")] });
    expect(rules(checkEvc(inv))).toEqual(["evc.consistent:ok"]);
  });

  test("negative: hosts of different clusters are not compared", () => {
    const c2 = { ref: { type: "ClusterComputeResource", value: "c2" }, name: "C2" };
    const inv = inventory({
      hosts: [host("a1"), host("a2"), host("b1", { cluster: c2, featureCapability: { "cpuid.MDCLEAR": "0" } }), host("b2", { cluster: c2, featureCapability: { "cpuid.MDCLEAR": "0" } })],
    });
    expect(rules(checkEvc(inv))).toEqual(["evc.consistent:ok", "evc.consistent:ok"]);
  });

  test("a single host, or disconnected ones, leave nothing to compare (info)", () => {
    const inv = inventory({ hosts: [host("esx1"), host("esx2", { featureCapability: undefined })] });
    expect(rules(checkEvc(inv))).toEqual(["evc.nothing-to-compare:info"]);
  });

  test("ESXi hosts given directly form one vMotion domain", () => {
    const direct = (n: string, mdclear: string) =>
      host(n, { endpoint: n, cluster: undefined, seenThrough: [{ endpoint: n, ref: { type: "HostSystem", value: "ha-host" }, name: n }], featureCapability: { "cpuid.MDCLEAR": mdclear } });
    const inv = inventory({
      endpoints: [vcenter({ name: "a", kind: "esxi" }), vcenter({ name: "b", kind: "esxi" })],
      hosts: [direct("a", "1"), direct("b", "0")],
    });
    expect(only(checkEvc(inv), "evc.cold-cycle-mismatch").target).toBe("the ESXi hosts given directly");
  });
});

describe("check 2: upgrade order", () => {
  test.each([
    ["vCenter 6.7 vs ESXi 7.0.2", "6.7.0", "15976728", "7.0.2", "17867351"],
    ["vCenter 7.0 U2 vs ESXi 7.0 U3", "7.0.2", "17958471", "7.0.3", "18644231"],
    ["vCenter 6.5 vs ESXi 6.7 U3", "6.5.0", "5973321", "6.7.0", "14320388"],
    ["vCenter 6.7 U3f vs a hypothetical 6.7 U4 (build unknown, version newer)", "6.7.0", "15976728", "6.7.1", "99999999"],
  ])("positive: %s is critical", (_, vcv, vcb, hv, hb) => {
    const inv = inventory({ endpoints: [vcenter({ version: vcv, build: vcb })], hosts: [host("old", { version: "6.5.0", build: "7967591" }), host("new", { version: hv, build: hb })] });
    const f = only(checkUpgradeOrder(inv), "upgrade-order.vcenter-older");
    expect(f.severity).toBe("critical");
    expect(f.title).toContain("older than 1 of its ESXi hosts: new");
    expect(f.evidence).toContainEqual({ object: "vc", property: "about.version", value: vcv });
    expect(f.evidence).toContainEqual({ object: "new", property: "config.product.build", value: hb });
    expect(f.evidence.map((e) => e.object)).not.toContain("old");
    expect(f.fix).toMatch(/^Upgrade vCenter vc to .* first, then the ESXi hosts, then the vSAN disk format/);
  });

  test("with vSAN datastores the evidence names them", () => {
    const vsan = { name: "vsanDatastore", url: "ds:///vmfs/volumes/vsan:1/", accessible: true, type: "vsan" };
    const inv = inventory({ endpoints: [vcenter({ version: "6.7.0", build: "15976728" })], hosts: [host("new", { datastores: [vsan] })] });
    expect(only(checkUpgradeOrder(inv), "upgrade-order.vcenter-older").evidence).toContainEqual({ object: "vsanDatastore", property: "summary.type", value: "vsan" });
  });

  test.each([
    ["same 7.0.3 line", "7.0.3", "20395099", "7.0.3", "18644231"],
    ["newer vCenter", "8.0.2", "22385739", "7.0.3", "18644231"],
    ["vCenter 6.7 U3f vs ESXi 6.7 U3 (both builds known)", "6.7.0", "15976714", "6.7.0", "14320388"],
  ])("negative: %s is ok", (_, vcv, vcb, hv, hb) => {
    const inv = inventory({ endpoints: [vcenter({ version: vcv, build: vcb })], hosts: [host("esx1", { version: hv, build: hb })] });
    expect(rules(checkUpgradeOrder(inv))).toEqual(["upgrade-order.ok:ok"]);
  });

  test("same 6.x line with an unknown build: ok, with a pointer to the interoperability matrix", () => {
    const inv = inventory({ endpoints: [vcenter({ version: "6.7.0", build: "1" })], hosts: [host("esx1", { version: "6.7.0", build: "14320388" })] });
    const f = only(checkUpgradeOrder(inv), "upgrade-order.ok");
    expect(f.title).toContain("interoperability matrix");
  });

  test("only hosts of that vCenter are compared; no vCenter at all is info", () => {
    const direct = host("esx9", { endpoint: "esx9", version: "8.0.0", build: "20513097" });
    expect(rules(checkUpgradeOrder(inventory({ hosts: [host("esx1"), direct] })))).toEqual(["upgrade-order.ok:ok"]);
    expect(rules(checkUpgradeOrder(inventory({ endpoints: [vcenter({ name: "esx9", kind: "esxi" })], hosts: [direct] })))).toEqual(["upgrade-order.no-vcenter:info"]);
  });
});

describe("check 3: USB/SD boot", () => {
  test.each([
    ["7.0 U2 (17630552)", "7.0.2", "17630552", "usb-boot.critical-build", "critical"],
    ["7.0 U2a (17867351)", "7.0.2", "17867351", "usb-boot.critical-build", "critical"],
    ["7.0 U2c (18426014)", "7.0.2", "18426014", "usb-boot.7x", "warning"],
    ["7.0 U3 (18644231)", "7.0.3", "18644231", "usb-boot.7x", "warning"],
    ["6.7 U3 (14320388)", "6.7.0", "14320388", "usb-boot.other-version", "info"],
  ])("positive: USB/SD boot on %s", (_, version, build, rule, severity) => {
    const f = only(checkUsbBoot(inventory({ hosts: [host("esx1", { version, build, ...usbBoot })] })), rule);
    expect(f.severity).toBe(severity as Finding["severity"]);
    expect(f.evidence).toContainEqual({ object: "esx1", property: "config.storageDevice.hostBusAdapter[vmhba32].driver", value: "vmkusb" });
    expect(f.evidence).toContainEqual({ object: "esx1", property: "config.storageDevice.scsiLun[].canonicalName", value: "mpx.vmhba32:C0:T0:L0" });
    if (rule === "usb-boot.critical-build") expect(f.fix).toContain("7.0 U2c (18426014) or later, or move the boot to a local disk");
  });

  test.each([
    ["the critical build on a local disk", host("esx1", { version: "7.0.2", build: "17867351" })],
    ["a USB adapter without a disk", host("esx1", { version: "7.0.2", build: "17867351", hbas: usbBoot.hbas })],
    ["a USB CD-ROM only", host("esx1", { hbas: usbBoot.hbas, luns: [{ canonicalName: "mpx.vmhba32:C0:T0:L0", lunType: "cdrom", displayName: "cd" }] })],
  ])("negative: %s is not USB boot", (_, h) => {
    expect(rules(checkUsbBoot(inventory({ hosts: [h] })))).toEqual(["usb-boot.not-usb:ok"]);
  });

  test("recent corrupt-on-disk events and configIssues are reported per host", () => {
    const h = host("esx1", { configIssues: [event("esx1", "esx.problem.boot.filesystem.down", { configIssue: true })] });
    const inv = inventory({
      hosts: [h],
      events: [event("esx1", "esx.problem.vmfs.resource.corruptondisk"), event("esx1", "esx.problem.vmfs.resource.corruptondisk", { createdTime: "2026-11-21T10:00:00Z" }), event("esx1", "VmPoweredOnEvent")],
    });
    const fs = checkUsbBoot(inv).filter((f) => f.rule === "usb-boot.event");
    expect(fs.map((f) => f.severity)).toEqual(["critical", "critical"]);
    const corrupt = fs.find((f) => f.title.includes("corrupt on disk")) as Finding;
    expect(corrupt.title).toContain("2 event(s)");
    expect(corrupt.title).toContain("latest 2026-11-21T10:00:00Z");
    const down = fs.find((f) => f.title.includes("boot device lost")) as Finding;
    expect(down.title).toContain("a current configIssue");
    expect(down.title).toContain("[event id unverified]");
  });

  test("a bootbank message is matched by its text", () => {
    const inv = inventory({ hosts: [host("esx1")], events: [event("esx1", "esx.problem.other", { message: "ALERT: Bootbank cannot be found at path '/bootbank'" })] });
    expect(only(checkUsbBoot(inv), "usb-boot.event").title).toContain("bootbank lost");
  });

  test.each([
    ["on a USB-booted host: warning", true, ["usb-boot.7x:warning", "usb-boot.event:warning"]],
    ["on a host that does not boot from USB: ignored", false, ["usb-boot.not-usb:ok"]],
  ])("APD events %s", (_, usb, expected) => {
    const h = host("esx1", usb ? usbBoot : {});
    expect(rules(checkUsbBoot(inventory({ hosts: [h], events: [event("esx1", "esx.problem.storage.apd.start")] })))).toEqual(expected);
  });
});

describe("check 4: MegaRAID Storage Manager discovery", () => {
  const megaraid = { hbas: [{ device: "vmhba2", driver: "lsi_mr3", model: "MegaRAID SAS Invader" }] };
  test.each([
    ["6.5 U2 (8294253)", { version: "6.5.0", build: "8294253" }, "msm-discovery.65-broken-build"],
    ["6.5 EP10 (10390116)", { version: "6.5.0", build: "10390116" }, "msm-discovery.65-broken-build"],
    ["slpd stopped", { services: [{ key: "slpd", running: false, policy: "off" }] }, "msm-discovery.slpd-stopped"],
    ["CIMSLP closed", { firewall: { CIMSLP: false } }, "msm-discovery.cimslp-closed"],
  ] as [string, Partial<HostFacts>, string][])("positive: %s → a finding with a ready-to-paste [[slp]] entry", (_, over, rule) => {
    const h = host("esx1", { ...over, ...megaraid, fqdn: "esx1.lab.example" });
    const f = only(checkMsmDiscovery(inventory({ hosts: [h] })), rule);
    expect(f.severity).toBe("warning");
    expect(f.snippet).toContain('host = "esx1.lab.example"');
    expect(f.snippet).toContain('profile = "lsi-msm"');
    expect(f.evidence).toContainEqual({ object: "esx1", property: "config.storageDevice.hostBusAdapter[vmhba2].driver", value: "lsi_mr3" });
  });

  test("the [[slp]] snippet is valid esxkit config", () => {
    const snippet = slpSnippet(host("esx1", { fqdn: "esx1.lab.example" }));
    const cfg = parseConfig(snippet, "snippet.toml");
    expect(cfg.slp).toHaveLength(1);
    expect(cfg.slp[0]?.host).toBe("esx1.lab.example");
    expect(cfg.slp[0]?.profile).toBe("lsi-msm");
  });

  test("without a MegaRAID adapter the finding is info", () => {
    const f = only(checkMsmDiscovery(inventory({ hosts: [host("esx1", { firewall: { CIMSLP: false } })] })), "msm-discovery.cimslp-closed");
    expect(f.severity).toBe("info");
    expect(f.title).toContain("no MegaRAID adapter");
  });

  test("several traps make one finding listing each reason", () => {
    const h = host("esx1", { version: "6.5.0", build: "10175896", services: [{ key: "slpd", running: false, policy: "off" }], firewall: { CIMSLP: false } });
    const fs = checkMsmDiscovery(inventory({ hosts: [h] }));
    expect(fs).toHaveLength(1);
    expect(fs[0]?.title).toContain("is at or after 8294253, slpd is stopped and the CIMSLP firewall ruleset is disabled");
  });

  test.each([
    ["6.5 U1g (7967591), slpd running", { version: "6.5.0", build: "7967591" }],
    ["6.7 U3 with slpd running and CIMSLP open", { version: "6.7.0", build: "14320388" }],
    ["services not readable", { services: undefined, firewall: undefined }],
  ] as [string, Partial<HostFacts>][])("negative: %s", (_, over) => {
    expect(rules(checkMsmDiscovery(inventory({ hosts: [host("esx1", over)] })))).toEqual(["msm-discovery.ok:ok"]);
  });
});

describe("check 5: watchdog readiness", () => {
  const ds = { name: "shared", url: "ds:///vmfs/volumes/5f00/", accessible: true, type: "VMFS" };
  const a = host("esx-a", { endpoint: "a", datastores: [ds], hardwareUuid: "4c4c4544-0042-3510-8052-b2c04f4e3432" });
  const b = host("esx-b", { endpoint: "b", datastores: [ds], hardwareUuid: "30313233-3435-3637-3839-616263646566" });
  /** A uuid as an SMBIOS-order BMC sends it (first three fields little-endian), as hex. */
  const smbiosHex = (u: string) => {
    const h = u.replace(/-/g, "");
    const le = (s: string) => s.match(/../g)!.reverse().join("");
    return le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16);
  };
  const cand = (esxi: string, h: HostFacts, over: Partial<CandidateFacts> = {}): CandidateFacts => ({
    esxi,
    reachable: true,
    host: h,
    bmc: { address: "192.0.2.1", port: 623, answered: true, detail: "answers (channel 1, IPMI 2.0 / RMCP+)", guid: smbiosHex(h.hardwareUuid!), guidSource: "get_system_guid" },
    ...over,
  });
  const bmcOf = (h: HostFacts, over: Partial<NonNullable<CandidateFacts["bmc"]>> = {}) => ({ ...(cand("x", h).bmc as NonNullable<CandidateFacts["bmc"]>), ...over });
  const std: NicFacts = { label: "Network adapter 1", backing: "standard", portgroup: "VM Network" };
  const ready = (over: Partial<WatchdogFacts> = {}): WatchdogFacts => ({
    name: "vcsa",
    vmName: "vcsa",
    candidates: [cand("a", a), cand("b", b)],
    selfHost: { esxi: "b", host: b },
    vm: { vm: vm("vcsa", "esx-a", { endpoint: "a" }), vmPathName: "[shared] vcsa/vcsa.vmx", datastoreName: "shared", datastore: ds, nics: [std] },
    notes: [],
    ...over,
  });

  test("negative: a ready watchdog gives only ok findings", () => {
    expect(rules(checkWatchdog(ready()))).toEqual(["watchdog.bmc-ok:ok", "watchdog.datastore-ok:ok", "watchdog.network-ok:ok", "watchdog.placement-ok:ok"]);
  });

  test.each([
    [
      "a candidate that does not see the datastore",
      () => ready({ candidates: [cand("a", a), cand("b", { ...b, datastores: [{ ...ds, url: "ds:///vmfs/volumes/other/" }] })] }),
      "watchdog.datastore-missing",
      "b (esx-b) cannot see datastore shared",
    ],
    ["an inaccessible datastore", () => ready({ candidates: [cand("a", a), cand("b", { ...b, datastores: [{ ...ds, accessible: false }] })] }), "watchdog.datastore-missing", "b (esx-b) cannot see"],
    [
      "a static-binding distributed portgroup",
      () => ready({ vm: { ...(ready().vm as NonNullable<WatchdogFacts["vm"]>), nics: [{ label: "Network adapter 1", backing: "distributed", portgroupKey: "dvportgroup-13", portgroup: "Mgmt", binding: "earlyBinding" }] } }),
      "watchdog.network-static-dvs",
      "earlyBinding (non-ephemeral) port binding",
    ],
    [
      "a standard portgroup missing on a candidate",
      () => ready({ candidates: [cand("a", a), cand("b", { ...b, standardPortgroups: ["Management Network"] })] }),
      "watchdog.portgroup-missing",
      'Standard portgroup "VM Network" of vcsa Network adapter 1 is missing on b (esx-b)',
    ],
    ["esxkit on the same host", () => ready({ selfHost: { esxi: "a", host: a } }), "watchdog.same-host", "both run on esx-a"],
    ["a BMC that does not answer", () => ready({ candidates: [cand("a", a), cand("b", b, { bmc: { address: "192.0.2.2", port: 623, answered: false, detail: "no IPMI answer within 3000 ms" } })] }), "watchdog.bmc-unreachable", "The BMC of b at 192.0.2.2:623 does not answer"],
    ["a bmc entry pointing at another host's BMC", () => ready({ candidates: [cand("a", a), cand("b", b, { bmc: bmcOf(a) })] }), "watchdog.bmc-wrong-host", "The BMC at 192.0.2.1:623 is not b's: its System GUID 4c4c4544-0042-3510-8052-b2c04f4e3432"],
    ["a BMC whose GUID cannot be read", () => ready({ candidates: [cand("a", a), cand("b", b, { bmc: bmcOf(b, { guid: undefined, guidSource: undefined }) })] }), "watchdog.bmc-unidentified", "cannot be shown to be b's"],
    ["a pinned bmc.guid the BMC does not report", () => ready({ candidates: [cand("a", a), cand("b", b, { bmc: bmcOf(b, { pinnedGuid: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" }) })] }), "watchdog.bmc-wrong-host", "not the pinned bmc.guid"],
    ["an unreachable candidate", () => ready({ candidates: [cand("a", a), { esxi: "b", reachable: false, error: "ECONNREFUSED" }] }), "watchdog.host-unreachable", "Candidate host b cannot be reached"],
    ["a VM that is nowhere", () => ready({ vm: undefined }), "watchdog.vm-not-found", 'Protected VM "vcsa" was not found'],
  ] as [string, () => WatchdogFacts, string, string][])("positive: %s is critical", (_, facts, rule, title) => {
    const f = only(checkWatchdog(facts()), rule);
    expect(f.severity).toBe("critical");
    expect(f.title).toContain(title);
    expect(f.target).toBe("watchdog vcsa");
    expect(f.fix).toBeTruthy();
  });

  test("a bmc.guid pin stands in for the host's uuid", () => {
    const pinned = cand("b", b, { bmc: bmcOf(a, { pinnedGuid: a.hardwareUuid }) });
    expect(rules(checkWatchdog(ready({ candidates: [cand("a", a), pinned] })))).toContain("watchdog.bmc-ok:ok");
    expect(rules(checkWatchdog(ready({ candidates: [cand("a", a), pinned] })))).not.toContain("watchdog.bmc-wrong-host:critical");
  });

  test.each([
    ["ephemeral distributed portgroup", { label: "nic", backing: "distributed", portgroupKey: "dvportgroup-9", portgroup: "Mgmt-eph", binding: "ephemeral" } as NicFacts, "watchdog.network-ok:ok"],
    ["distributed portgroup of unknown binding", { label: "nic", backing: "distributed", portgroupKey: "dvportgroup-9" } as NicFacts, "watchdog.network-unknown-binding:warning"],
    ["an opaque (NSX) network", { label: "nic", backing: "other", backingType: "VirtualEthernetCardOpaqueNetworkBackingInfo" } as NicFacts, "watchdog.network-unknown-binding:warning"],
  ])("network: %s", (_, nic, expected) => {
    const facts = ready({ vm: { ...(ready().vm as NonNullable<WatchdogFacts["vm"]>), nics: [nic] } });
    expect(rules(checkWatchdog(facts)).filter((r) => r.startsWith("watchdog.network"))).toEqual([expected]);
  });

  test.each([
    ["on another host: ok, with a hint naming the self_host to set", b, ["watchdog.placement-ok:ok", "watchdog.self-host-detected:info"], 'Set self_host = "b"'],
    ["on the protected VM's host: critical", a, ["watchdog.same-host:critical"], "Move esxkit's own VM or vcsa"],
  ] as [string, HostFacts, string[], string][])("self_host unset, this machine found as a VM %s", (_, on, expected, fix) => {
    const selfVm = { vm: vm("esxkit", on.name, { endpoint: on.endpoint }), mac: "00:50:56:aa:bb:cc", ...(on === b ? { esxi: "b" } : {}) };
    const fs = checkWatchdog(ready({ selfHost: undefined, selfVm })).filter((f) => /placement|self-host|same-host/.test(f.rule));
    expect(rules(fs)).toEqual(expected);
    expect(fs.map((f) => f.fix ?? "").join(" ")).toContain(fix);
    expect(fs[0]?.evidence).toContainEqual({ object: "this machine", property: "MAC address", value: "00:50:56:aa:bb:cc" });
  });

  test("self_host unset and the host has no [esxi.*]: the hint says to add one", () => {
    const selfVm = { vm: vm("esxkit", "esx-z", { endpoint: "vc" }), mac: "00:50:56:aa:bb:cc" };
    const hint = only(checkWatchdog(ready({ selfHost: undefined, selfVm })), "watchdog.self-host-detected");
    expect(hint.fix).toContain('self_host = "<name>" (after adding an [esxi.<name>] section for esx-z)');
  });

  test("self_host unset or unknown is info", () => {
    expect(rules(checkWatchdog(ready({ selfHost: undefined }))).filter((r) => r.includes("self-host"))).toEqual(["watchdog.self-host-unknown:info"]);
    expect(rules(checkWatchdog(ready({ selfHost: { esxi: "c" } }))).filter((r) => r.includes("self-host"))).toEqual(["watchdog.self-host-unknown:info"]);
  });
});

describe("endpoints and host state", () => {
  test("a disconnected host is reported (info) and left out of the host checks", () => {
    const inv = inventory({ hosts: [host("esx1"), host("esx2", { connectionState: "disconnected", version: "7.0.2", build: "17867351", ...usbBoot })] });
    const fs = inventoryFindings(inv);
    expect(only(fs, "endpoint.host-not-connected").title).toBe("esx2 is disconnected in vc: its checks were skipped");
    expect(fs.filter((f) => f.check === "usb-boot" && f.severity !== "ok")).toEqual([]);
    expect(only(fs, "usb-boot.not-usb").title).not.toContain("esx2");
  });

  test("an unreachable endpoint is critical; a part that could not be read is info", () => {
    const inv = inventory({
      hosts: [host("esx1")],
      unreachable: [{ name: "esx9", url: "https://esx9/sdk", kind: "esxi", error: "InvalidLogin: Cannot complete login [ESX_SOAP_FAULT]" }],
      readErrors: ["vc: events: NoPermission: …"],
    });
    const fs = inventoryFindings(inv);
    const down = only(fs, "endpoint.unreachable");
    expect(down.severity).toBe("critical");
    expect(down.evidence).toEqual([{ object: "esx9", property: "connect", value: "InvalidLogin: Cannot complete login [ESX_SOAP_FAULT]" }]);
    expect(only(fs, "endpoint.read-error").severity).toBe("info");
  });

  test("nothing reachable: only the endpoint findings", () => {
    const inv = inventory({ endpoints: [], unreachable: [{ name: "vc", url: "https://vc/sdk", kind: "vcenter", error: "ECONNREFUSED" }] });
    expect(rules(inventoryFindings(inv))).toEqual(["endpoint.unreachable:critical"]);
  });
});

describe("this machine's vSphere MAC addresses", () => {
  const nic = (mac: string, internal = false) => ({ address: "192.0.2.9", netmask: "255.255.255.0", family: "IPv4" as const, mac, internal, cidr: "192.0.2.9/24" });
  test("only non-loopback MACs from VMware ranges, lower case, once each", () => {
    const ifaces = {
      lo: [nic("00:00:00:00:00:00", true)],
      ens192: [nic("00:50:56:AB:CD:EF"), { ...nic("00:50:56:AB:CD:EF"), family: "IPv6" as const, address: "fe80::1", cidr: "fe80::1/64", scopeid: 2 }],
      ens224: [nic("00:0c:29:01:02:03")],
      eth9: [nic("52:54:00:12:34:56")], // KVM: not a vSphere VM NIC
    };
    expect(localVmwareMacs(ifaces).sort()).toEqual(["00:0c:29:01:02:03", "00:50:56:ab:cd:ef"]);
  });
});
