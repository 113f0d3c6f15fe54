// Smoke tests of the simulator's extensions for the doctor checks: per-host versions and builds,
// featureCapability/featureRequirement, USB boot adapters, events, services and firewall rulesets.
// Everything is read back through SOAP, as esxkit reads it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startVcsim, type Vcsim, VcsimSet } from "../support/vcsim.ts";
import { SoapSession, faultType, morefByName, objects, tag, tags } from "./soap.ts";

const sims = new VcsimSet();
afterAll(() => sims.stopAll());
const start = sims.start.bind(sims);

/** The text of <name>key</name><val>…</val> in a propSet reply (first match). */
function prop(xml: string, name: string): string {
  const m = new RegExp(`<name>${name.replace(/\./g, "\\.")}</name><val[^>]*>([\\s\\S]*?)</val></propSet>`).exec(xml);
  if (!m) throw new Error(`no property ${name} in ${xml.slice(0, 300)}`);
  return m[1] ?? "";
}

describe("vpx: per-host facts", () => {
  let vc: Vcsim;
  let s: SoapSession;
  let h0: string;
  let h1: string;
  beforeAll(async () => {
    vc = await start({
      args: ["-cluster", "1", "-host", "2", "-standalone-host", "0", "-vm", "1"],
      vcVersion: "7.0.3",
      vcBuild: "20395099",
      hosts: {
        "*": { version: "7.0.2", build: "17630552" },
        DC0_C0_H1: {
          build: "18426014",
          featureCapability: { "cpuid.MDCLEAR": "1" },
          usbBoot: true,
          services: { slpd: { running: false, policy: "off" } },
          firewall: { CIMSLP: false },
          configIssues: [{ eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "bootbank corrupt" }],
        },
      },
      clusters: { DC0_C0: { currentEVCModeKey: "intel-broadwell" } },
      vms: { DC0_C0_RP0_VM0: { featureRequirement: { "cpuid.mdclear": "Bool:Min:1" } } },
    });
    s = new SoapSession(vc);
    expect((await s.login()).status).toBe(200);
    h0 = await morefByName(s, "HostSystem", "DC0_C0_H0");
    h1 = await morefByName(s, "HostSystem", "DC0_C0_H1");
  });

  test("vCenter about carries -vc-version/-vc-build", async () => {
    const about = (await s.serviceContent()).body;
    expect(tag(about, "apiType")).toBe("VirtualCenter");
    expect(tag(about, "version")).toBe("7.0.3");
    expect(tag(about, "build")).toBe("20395099");
    expect(tag(about, "fullName")).toBe("VMware vCenter Server 7.0.3 build-20395099");
  });

  test("each host has its own version/build, in config.product and summary.config.product", async () => {
    const a = await s.props("HostSystem", h0, ["config.product", "summary.config.product.build"]);
    const b = await s.props("HostSystem", h1, ["config.product", "summary.config.product.build"]);
    expect(tag(prop(a, "config.product"), "version")).toBe("7.0.2");
    expect(tag(prop(a, "config.product"), "build")).toBe("17630552");
    expect(prop(a, "summary.config.product.build")).toBe("17630552");
    expect(tag(prop(b, "config.product"), "build")).toBe("18426014");
    expect(prop(b, "summary.config.product.build")).toBe("18426014");
  });

  test("config.featureCapability per host; runtime.featureRequirement on the VM; cluster EVC key", async () => {
    const a = prop(await s.props("HostSystem", h0, ["config.featureCapability"]), "config.featureCapability");
    const b = prop(await s.props("HostSystem", h1, ["config.featureCapability"]), "config.featureCapability");
    expect(a).not.toContain("cpuid.MDCLEAR");
    expect(tag(b, "key")).toBe("cpuid.MDCLEAR");
    expect(tag(b, "value")).toBe("1");
    const vm = await morefByName(s, "VirtualMachine", "DC0_C0_RP0_VM0");
    const req = prop(await s.props("VirtualMachine", vm, ["runtime.featureRequirement"]), "runtime.featureRequirement");
    expect(tag(req, "key")).toBe("cpuid.mdclear");
    expect(tag(req, "value")).toBe("Bool:Min:1");
    const cluster = await morefByName(s, "ClusterComputeResource", "DC0_C0");
    expect(prop(await s.props("ClusterComputeResource", cluster, ["summary"]), "summary")).toContain(
      "<currentEVCModeKey>intel-broadwell</currentEVCModeKey>",
    );
  });

  test("USB boot: vmkusb vmhba32 and mpx.vmhba32:C0:T0:L0 only on the chosen host", async () => {
    const usb = prop(await s.props("HostSystem", h1, ["config.storageDevice"]), "config.storageDevice");
    expect(usb).toMatch(/<device>vmhba32<\/device>[\s\S]*?<driver>vmkusb<\/driver>/);
    expect(tags(usb, "canonicalName")).toContain("mpx.vmhba32:C0:T0:L0");
    const plain = prop(await s.props("HostSystem", h0, ["config.storageDevice"]), "config.storageDevice");
    expect(plain).not.toContain("vmkusb");
    expect(tags(plain, "canonicalName")).not.toContain("mpx.vmhba32:C0:T0:L0");
    const fsv = prop(await s.props("HostSystem", h1, ["config.fileSystemVolume"]), "config.fileSystemVolume");
    expect(fsv).toMatch(/<name>OSDATA-[^<]+<\/name>[\s\S]*<diskName>mpx\.vmhba32:C0:T0:L0<\/diskName>/);
  });

  test("slpd service and CIMSLP ruleset per host; HostServiceSystem mirrors config.service", async () => {
    const slpd = (xml: string) => /<service><key>slpd<\/key>[\s\S]*?<\/service>/.exec(xml)?.[0] ?? "";
    const on = slpd(prop(await s.props("HostSystem", h0, ["config.service"]), "config.service"));
    const off = slpd(prop(await s.props("HostSystem", h1, ["config.service"]), "config.service"));
    expect([tag(on, "running"), tag(on, "policy")]).toEqual(["true", "on"]);
    expect([tag(off, "running"), tag(off, "policy")]).toEqual(["false", "off"]);
    const cimslp = (xml: string) => /<ruleset><key>CIMSLP<\/key>[\s\S]*?<\/ruleset>/.exec(xml)?.[0] ?? "";
    const fw0 = prop(await s.props("HostSystem", h0, ["config.firewall"]), "config.firewall");
    const fw1 = prop(await s.props("HostSystem", h1, ["config.firewall"]), "config.firewall");
    expect(tag(cimslp(fw0), "enabled")).toBe("true");
    expect(tag(cimslp(fw1), "enabled")).toBe("false");
    // the HostFirewallSystem of each host is its own (the stock model shares one ruleset slice)
    const fwSys1 = prop(await s.props("HostSystem", h1, ["configManager.firewallSystem"]), "configManager.firewallSystem");
    expect(tag(cimslp(await s.props("HostFirewallSystem", fwSys1, ["firewallInfo"])), "enabled")).toBe("false");

    const ss0 = prop(await s.props("HostSystem", h0, ["configManager.serviceSystem"]), "configManager.serviceSystem");
    expect(tag(slpd(await s.props("HostServiceSystem", ss0, ["serviceInfo"])), "running")).toBe("true");
    await s.ok(`<StopService xmlns="urn:vim25"><_this type="HostServiceSystem">${ss0}</_this><id>slpd</id></StopService>`);
    await s.ok(`<UpdateServicePolicy xmlns="urn:vim25"><_this type="HostServiceSystem">${ss0}</_this><id>slpd</id><policy>off</policy></UpdateServicePolicy>`);
    const after = slpd(prop(await s.props("HostSystem", h0, ["config.service"]), "config.service"));
    expect([tag(after, "running"), tag(after, "policy")]).toEqual(["false", "off"]);
    const missing = await s.call(`<StartService xmlns="urn:vim25"><_this type="HostServiceSystem">${ss0}</_this><id>nope</id></StartService>`);
    expect(faultType(missing.body)).toBe("NotFound");
  });

  test("configIssue on the chosen host only", async () => {
    const issues = await s.props("HostSystem", h1, ["configIssue"]);
    expect(issues).toContain("<eventTypeId>esx.problem.vmfs.resource.corruptondisk</eventTypeId>");
    expect(await s.props("HostSystem", h0, ["configIssue"])).not.toContain("esx.problem");
  });

  test("control: events posted at runtime show in QueryEvents; host specs change at runtime", async () => {
    await vc.control({ cmd: "event", host: "DC0_C0_H0", eventTypeId: "esx.problem.storage.apd.start", message: "APD", severity: "error" });
    const sc = await s.serviceContent();
    const events = await s.ok(
      `<QueryEvents xmlns="urn:vim25"><_this type="EventManager">${sc.eventManager}</_this><filter>` +
        `<entity><entity type="HostSystem">${h0}</entity><recursion>self</recursion></entity></filter></QueryEvents>`,
    );
    expect(events).toContain("<eventTypeId>esx.problem.storage.apd.start</eventTypeId>");
    expect(events).toContain(`<host type="HostSystem">${h0}</host>`);

    await expect(vc.control({ cmd: "event", host: "nope", eventTypeId: "x" })).rejects.toThrow(/no host named "nope"/);

    await vc.control({ cmd: "host", host: "DC0_C0_H0", spec: { featureCapability: { "cpuid.MDCLEAR": "0" }, usbBoot: true } });
    const fc = prop(await s.props("HostSystem", h0, ["config.featureCapability"]), "config.featureCapability");
    expect(tag(fc, "value")).toBe("0");
    expect(prop(await s.props("HostSystem", h0, ["config.storageDevice"]), "config.storageDevice")).toContain("vmkusb");
    await expect(vc.control({ cmd: "host", host: "nope", spec: {} })).rejects.toThrow(/no host named "nope"/);
    await expect(vc.control({ cmd: "host", host: "DC0_C0_H0", spec: { bogus: 1 } })).rejects.toThrow(/unknown field "bogus"/);
  });
});

describe("vpx: QueryEvents filters like vCenter", () => {
  test("by EventEx eventTypeId, by type name, by entity, over more than a page of history", async () => {
    const vc = await start({ args: ["-cluster", "1", "-host", "2", "-standalone-host", "0", "-vm", "2"] });
    const s = new SoapSession(vc);
    await s.login();
    for (let i = 0; i < 15; i++) {
      await vc.control({ cmd: "event", host: "DC0_C0_H1", eventTypeId: "esx.problem.storage.apd.start", message: `apd ${i}` });
    }
    await vc.control({ cmd: "event", host: "DC0_C0_H0", eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "corrupt", severity: "error" });
    for (let i = 0; i < 15; i++) {
      await vc.control({ cmd: "event", host: "DC0_C0_H1", eventTypeId: "esx.problem.storage.apd.start", message: `apd again ${i}` });
    }
    const sc = await s.serviceContent();
    const query = async (filter: string) =>
      s.ok(`<QueryEvents xmlns="urn:vim25"><_this type="EventManager">${sc.eventManager}</_this><filter>${filter}</filter></QueryEvents>`);
    const h0 = await morefByName(s, "HostSystem", "DC0_C0_H0");
    const h1 = await morefByName(s, "HostSystem", "DC0_C0_H1");

    const corrupt = await query(`<eventTypeId>esx.problem.vmfs.resource.corruptondisk</eventTypeId>`);
    expect(tags(corrupt, "eventTypeId")).toEqual(["esx.problem.vmfs.resource.corruptondisk"]);
    expect(tag(corrupt, "severity")).toBe("error");
    expect(corrupt).toMatch(/<returnval [^>]*type="EventEx"/);

    expect(tags(await query(`<eventTypeId>esx.problem.boot.filesystem.down</eventTypeId>`), "eventTypeId")).toEqual([]);
    const apdOnH0 = await query(
      `<entity><entity type="HostSystem">${h0}</entity><recursion>self</recursion></entity><eventTypeId>esx.problem.storage.apd.start</eventTypeId>`,
    );
    expect(tags(apdOnH0, "eventTypeId")).toEqual([]);
    const apdOnH1 = await query(
      `<entity><entity type="HostSystem">${h1}</entity><recursion>all</recursion></entity><eventTypeId>esx.problem.storage.apd.start</eventTypeId>`,
    );
    expect(tags(apdOnH1, "eventTypeId").length).toBe(30);
    expect(tags(await query(`<eventTypeId>VmPoweredOnEvent</eventTypeId>`), "key").length).toBe(2); // by Go type name, as before
    expect(tags(await query(`<maxCount>5</maxCount>`), "key").length).toBe(5);

    const anon = await new SoapSession(vc).call(
      `<QueryEvents xmlns="urn:vim25"><_this type="EventManager">${sc.eventManager}</_this><filter/></QueryEvents>`,
    );
    expect(faultType(anon.body)).toBe("NotAuthenticated");
  });
});

describe("vpx: portgroups, extra HBAs, reconfigure updates", () => {
  test("DVPG config.type defaults to earlyBinding; -portgroups and control change it", async () => {
    const vc = await start({ args: ["-pg", "2"], portgroups: { DC0_DVPG1: { type: "ephemeral" } } });
    const s = new SoapSession(vc);
    await s.login();
    const types = async () =>
      Object.fromEntries(
        objects(await s.list("DistributedVirtualPortgroup", ["name", "config.type"])).map((o) => [
          prop(o.xml, "name"),
          prop(o.xml, "config.type"),
        ]),
      );
    expect(await types()).toMatchObject({ DC0_DVPG0: "earlyBinding", DC0_DVPG1: "ephemeral" });
    await vc.control({ cmd: "portgroup", portgroup: "DC0_DVPG0", spec: { type: "lateBinding" } });
    expect((await types()).DC0_DVPG0).toBe("lateBinding");
    await expect(vc.control({ cmd: "portgroup", portgroup: "nope", spec: { type: "ephemeral" } })).rejects.toThrow(/no distributed portgroup/);
  });

  test("hbas adds a MegaRAID adapter on one host", async () => {
    const vc = await start({
      args: ["-cluster", "1", "-host", "2", "-standalone-host", "0", "-vm", "0"],
      hosts: { DC0_C0_H1: { hbas: [{ device: "vmhba2", driver: "lsi_mr3", model: "MegaRAID SAS Invader Controller" }] } },
    });
    const s = new SoapSession(vc);
    await s.login();
    const hba = async (name: string) =>
      prop(await s.props("HostSystem", await morefByName(s, "HostSystem", name), ["config.storageDevice.hostBusAdapter"]), "config.storageDevice.hostBusAdapter");
    expect(await hba("DC0_C0_H1")).toMatch(/<device>vmhba2<\/device>[\s\S]*?<model>MegaRAID SAS Invader Controller<\/model><driver>lsi_mr3<\/driver>/);
    expect(await hba("DC0_C0_H0")).not.toContain("lsi_mr3");
  });

  test("ReconfigVM_Task publishes config.bootOptions to WaitForUpdatesEx", async () => {
    const vc = await start({ args: ["-cluster", "0", "-standalone-host", "1", "-vm", "1"] });
    const s = new SoapSession(vc);
    await s.login();
    const vm = await morefByName(s, "VirtualMachine", "DC0_H0_VM0");
    const pc = (await s.serviceContent()).propertyCollector;
    await s.ok(
      `<CreateFilter xmlns="urn:vim25"><_this type="PropertyCollector">${pc}</_this><spec><propSet><type>VirtualMachine</type>` +
        `<pathSet>config.bootOptions</pathSet><pathSet>name</pathSet></propSet><objectSet><obj type="VirtualMachine">${vm}</obj></objectSet></spec>` +
        `<partialUpdates>false</partialUpdates></CreateFilter>`,
    );
    const wait = (version: string) =>
      s.ok(
        `<WaitForUpdatesEx xmlns="urn:vim25"><_this type="PropertyCollector">${pc}</_this><version>${version}</version>` +
          `<options><maxWaitSeconds>5</maxWaitSeconds></options></WaitForUpdatesEx>`,
      );
    const first = await wait("");
    const task = tag(
      await s.ok(
        `<ReconfigVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${vm}</_this><spec><bootOptions>` +
          `<bootOrder xsi:type="VirtualMachineBootOptionsBootableCdromDevice"/></bootOptions></spec></ReconfigVM_Task>`,
      ),
      "returnval",
    )!;
    expect((await s.waitTask(task)).state).toBe("success");
    const next = await wait(tag(first, "version")!);
    expect(next).toMatch(/<kind>modify<\/kind>/);
    expect(next).toMatch(/<name>config\.bootOptions<\/name><op>assign<\/op><val[^>]*>[\s\S]*VirtualMachineBootOptionsBootableCdromDevice/);
    expect(next).not.toContain("<name>name</name>"); // unchanged paths are not published
  });
});

describe("esx: event collectors", () => {
  test("a new collector's page holds the newest events; an eventTypeId filter matches EventEx ids, also for later events", async () => {
    const vc = await start({ mode: "esx", events: [{ eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "early" }] });
    const s = new SoapSession(vc);
    await s.login();
    for (let i = 0; i < 12; i++) await vc.control({ cmd: "event", eventTypeId: "esx.audit.filler", message: `filler ${i}` });
    const sc = await s.serviceContent();
    const collector = async (filter: string) =>
      tag(await s.ok(`<CreateCollectorForEvents xmlns="urn:vim25"><_this type="EventManager">${sc.eventManager}</_this><filter>${filter}</filter></CreateCollectorForEvents>`), "returnval")!;
    const page = async (c: string) => tags(await s.props("EventHistoryCollector", c, ["latestPage"]), "message");

    const all = await collector("");
    expect(await page(all)).toEqual(Array.from({ length: 10 }, (_, i) => `filler ${11 - i}`)); // default page 10, newest first

    const corrupt = await collector(`<eventTypeId>esx.problem.vmfs.resource.corruptondisk</eventTypeId>`);
    expect(await page(corrupt)).toEqual(["early"]);
    await vc.control({ cmd: "event", eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "late" });
    await vc.control({ cmd: "event", eventTypeId: "esx.audit.filler", message: "not this" });
    expect(await page(corrupt)).toEqual(["late", "early"]);
    const read = await s.ok(`<ReadNextEvents xmlns="urn:vim25"><_this type="EventHistoryCollector">${corrupt}</_this><maxCount>10</maxCount></ReadNextEvents>`);
    expect(tags(read, "message")).toEqual(["late", "early"]);
  });
});

describe("esx: one host", () => {
  test("-host-name/-host-version/-host-build set the host and the endpoint's about; events reach a collector", async () => {
    const vc = await start({
      mode: "esx",
      hostName: "esx01.lab.local",
      hostVersion: "6.5.0",
      hostBuild: "10884925",
      events: [{ eventTypeId: "esx.problem.vmfs.resource.corruptondisk", message: "corrupt on disk", severity: "error" }],
    });
    const s = new SoapSession(vc);
    await s.login();
    const about = (await s.serviceContent()).body;
    expect(tag(about, "apiType")).toBe("HostAgent");
    expect(tag(about, "build")).toBe("10884925");
    const host = await s.props("HostSystem", "ha-host", ["name", "summary.hardware.uuid", "config.product.build"]);
    expect(prop(host, "name")).toBe("esx01.lab.local");
    expect(prop(host, "config.product.build")).toBe("10884925");
    expect(prop(host, "summary.hardware.uuid")).toMatch(/^[0-9a-f-]{36}$/);

    const sc = await s.serviceContent();
    const collector = tag(
      await s.ok(`<CreateCollectorForEvents xmlns="urn:vim25"><_this type="EventManager">${sc.eventManager}</_this><filter/></CreateCollectorForEvents>`),
      "returnval",
    );
    const page = await s.props("EventHistoryCollector", collector!, ["latestPage"]);
    expect(page).toContain("<eventTypeId>esx.problem.vmfs.resource.corruptondisk</eventTypeId>");
    // without a name/uuid flag two processes still get different host uuids
    const other = await start({ mode: "esx" });
    const s2 = new SoapSession(other);
    await s2.login();
    expect(prop(await s2.props("HostSystem", "ha-host", ["summary.hardware.uuid"]), "summary.hardware.uuid")).not.toBe(
      prop(host, "summary.hardware.uuid"),
    );
  });

  test("bad extension flags fail clearly", async () => {
    await expect(startVcsim({ hosts: { nope: { build: "1" } } })).rejects.toThrow(/-hosts: no host named "nope"/);
    await expect(startVcsim({ mode: "esx", vcVersion: "7.0.3" })).rejects.toThrow(/-vc-version\/-vc-build are for -mode vpx/);
    await expect(startVcsim({ args: ["-hosts", "{bad json"] })).rejects.toThrow(/-hosts/);
  });
});
