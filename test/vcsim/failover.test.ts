// Smoke tests of the host-direct failover extensions: ESX-mode processes sharing one datastore
// directory, vmx locks with heartbeats, the msg.uuid.altered question with AnswerVM, a persisted
// inventory, and a host agent that dies while its VM lives on. All through SOAP, as esxkit sees them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Vcsim, type VcsimOptions, VcsimSet } from "../support/vcsim.ts";
import { SoapSession, faultType, tag, tags, xmlEscape } from "./soap.ts";

const TTL = 1.5; // seconds; short so staleness comes quickly
const root = mkdtempSync(join(tmpdir(), "vcsim-failover-"));
const sims = new VcsimSet();
afterAll(async () => {
  await sims.stopAll();
  rmSync(root, { recursive: true, force: true });
});

let seq = 0;
/** A fresh shared datastore directory for one scenario. */
const newDatastore = () => join(root, `ds${++seq}`);

async function host(name: string, dir: string, extra: VcsimOptions = {}): Promise<{ vc: Vcsim; s: SoapSession }> {
  const vc = await sims.start({
    mode: "esx",
    args: ["-vm", "0"],
    hostName: name,
    datastores: [{ dir }],
    lockTtlSeconds: TTL,
    ...extra,
  });
  const s = new SoapSession(vc);
  const login = await s.login();
  if (login.status !== 200) throw new Error(`login to ${name} failed: ${login.body}`);
  return { vc, s };
}

/** Polls cond (bounded) until it returns a value; every wait in these tests has a bound. */
async function until<T>(what: string, cond: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const VMX = "[shared-ds] vcsa/vcsa.vmx";

async function registerVm(s: SoapSession, path = VMX, name = "vcsa"): Promise<{ state: string; info: string; vm?: string }> {
  const task = tag(
    await s.ok(
      `<RegisterVM_Task xmlns="urn:vim25"><_this type="Folder">ha-folder-vm</_this><path>${xmlEscape(path)}</path>` +
        `<name>${name}</name><asTemplate>false</asTemplate><pool type="ResourcePool">ha-root-pool</pool>` +
        `<host type="HostSystem">ha-host</host></RegisterVM_Task>`,
    ),
    "returnval",
  )!;
  const r = await s.waitTask(task);
  return { ...r, vm: tag(r.info, "result") };
}

async function powerOn(s: SoapSession, vm: string): Promise<string> {
  return tag(await s.ok(`<PowerOnVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${vm}</_this></PowerOnVM_Task>`), "returnval")!;
}

async function answer(s: SoapSession, vm: string, questionId: string, choice: string) {
  return s.call(
    `<AnswerVM xmlns="urn:vim25"><_this type="VirtualMachine">${vm}</_this><questionId>${questionId}</questionId><answerChoice>${choice}</answerChoice></AnswerVM>`,
  );
}

async function vmProps(s: SoapSession, vm: string) {
  const xml = await s.props("VirtualMachine", vm, ["runtime.powerState", "config.uuid", "runtime.question", "config.hardware.device"]);
  const question = /<name>runtime\.question<\/name><val[^>]*>([\s\S]*?)<\/val><\/propSet>/.exec(xml)?.[1];
  return {
    powerState: /<name>runtime\.powerState<\/name><val[^>]*>(\w+)</.exec(xml)?.[1],
    uuid: /<name>config\.uuid<\/name><val[^>]*>([^<]+)</.exec(xml)?.[1],
    question,
    questionId: question ? tag(question, "id") : undefined,
    macs: tags(xml, "macAddress"),
  };
}

async function findVm(s: SoapSession, path = VMX): Promise<string | undefined> {
  return tag(
    await s.ok(
      `<FindByDatastorePath xmlns="urn:vim25"><_this type="SearchIndex">ha-searchindex</_this>` +
        `<datacenter type="Datacenter">ha-datacenter</datacenter><path>${xmlEscape(path)}</path></FindByDatastorePath>`,
    ),
    "returnval",
  );
}

async function lockOf(vc: Vcsim): Promise<{ locked: boolean; stale?: boolean; mine?: boolean; host?: string }> {
  return (await vc.control({ cmd: "lock", path: VMX })).lock as { locked: boolean; stale?: boolean; mine?: boolean; host?: string };
}

describe("two hosts sharing a datastore", () => {
  const dir = newDatastore();
  let a: { vc: Vcsim; s: SoapSession };
  let b: { vc: Vcsim; s: SoapSession };
  let vmA: string;
  let vmB: string;
  let uuid: string | undefined;
  const stateA = join(root, "esx01.state.json");

  beforeAll(async () => {
    a = await host("esx01.lab", dir, { sharedVms: ["vcsa:on"], statePath: stateA });
    b = await host("esx02.lab", dir, { statePath: join(root, "esx02.state.json") });
    vmA = (await findVm(a.s))!;
  });

  test("the datastore looks the same from both hosts", async () => {
    const ds = async (s: SoapSession) => {
      const xml = await s.list("Datastore", ["summary.name", "summary.url", "summary.accessible"]);
      return /<obj type="Datastore">([^<]*shared[^<]*|[^<]*ds\d[^<]*)<\/obj>[\s\S]*?<name>summary\.url<\/name><val[^>]*>([^<]+)</.exec(xml)?.slice(1, 3);
    };
    const [refA, urlA] = (await ds(a.s))!;
    const [refB, urlB] = (await ds(b.s))!;
    expect(refA).toBe(refB!);
    expect(urlA).toMatch(/^ds:\/\/\/vmfs\/volumes\/[0-9a-f-]+\/$/);
    expect(urlB).toBe(urlA!);
  });

  test("host A created and powered on the VM, and holds its lock", async () => {
    const p = await vmProps(a.s, vmA);
    expect(p.powerState).toBe("poweredOn");
    uuid = p.uuid;
    expect(await lockOf(a.vc)).toMatchObject({ locked: true, mine: true, host: "esx01.lab" });
    expect(readFileSync(join(dir, "vcsa/vcsa.vmx"), "utf8")).toContain(`uuid.bios = `);
    expect(JSON.parse(readFileSync(stateA, "utf8"))).toEqual({ vms: [{ path: VMX, name: "vcsa" }] });
  });

  test("B registers the same vmx (same uuid); a second register is AlreadyExists", async () => {
    const r = await registerVm(b.s);
    expect(r.state).toBe("success");
    vmB = r.vm!;
    const [pa, pb] = [await vmProps(a.s, vmA), await vmProps(b.s, vmB)];
    expect(pb.uuid).toBe(uuid!);
    expect(pb.macs.length).toBe(1); // the NIC comes from the vmx
    expect(pb.macs).toEqual(pa.macs);
    const again = await registerVm(b.s);
    expect(again.state).toBe("error");
    expect(again.info).toMatch(/type="AlreadyExists"/);
  });

  test("power-on on B fails with FileLocked while A is alive", async () => {
    const t = await b.s.waitTask(await powerOn(b.s, vmB));
    expect(t.state).toBe("error");
    expect(t.info).toMatch(/type="FileLocked"/);
    expect(tag(t.info, "file")).toBe(VMX);
    expect(tag(t.info, "localizedMessage")).toBe("Failed to lock the file");
    expect((await vmProps(b.s, vmB)).powerState).toBe("poweredOff");
  });

  test("A hangs (SIGSTOP): the lock goes stale, B's power-on asks msg.uuid.altered, 'I moved it' keeps the uuid", async () => {
    a.vc.proc.kill("SIGSTOP");
    await until("A's lock to go stale", async () => (await lockOf(b.vc)).stale === true);
    const task = await powerOn(b.s, vmB);
    const q = await until("the question", async () => (await vmProps(b.s, vmB)).question);
    expect(tag(q, "id")).toMatch(/^_vmx\d+$/);
    expect(tags(q, "label")).toEqual(["button.uuid.cancel", "button.uuid.movedTheVM", "button.uuid.copiedTheVM"]);
    expect(tags(q, "key")).toEqual(["0", "1", "2"]);
    expect(tag(q, "defaultIndex")).toBe("2");
    expect(q).toContain("msg.uuid.altered");
    expect(tag(await b.s.props("VirtualMachine", vmB, ["summary.runtime.question"]), "id")).toBe(tag(q, "id")!);
    expect(tag((await b.s.props("Task", task, ["info"])), "state")).toBe("running");

    const wrongId = await answer(b.s, vmB, "_vmx999", "1");
    expect(faultType(wrongId.body)).toBe("InvalidArgument");
    const wrongChoice = await answer(b.s, vmB, tag(q, "id")!, "7");
    expect(faultType(wrongChoice.body)).toBe("InvalidArgument");
    expect((await answer(b.s, vmB, tag(q, "id")!, "1")).status).toBe(200);

    expect((await b.s.waitTask(task)).state).toBe("success");
    const p = await vmProps(b.s, vmB);
    expect(p.powerState).toBe("poweredOn");
    expect(p.question).toBeUndefined();
    expect(p.uuid).toBe(uuid!);
    expect(await lockOf(b.vc)).toMatchObject({ locked: true, mine: true, host: "esx02.lab" });
  });

  test("A wakes up (SIGCONT): it lost the lock, so its copy is powered off", async () => {
    a.vc.proc.kill("SIGCONT");
    await until("A's VM powered off", async () => (await vmProps(a.s, vmA)).powerState === "poweredOff");
    expect(await lockOf(b.vc)).toMatchObject({ locked: true, host: "esx02.lab" });
  });

  test("A crashes and reboots: its stale registration comes back powered off; UnregisterVM drops it", async () => {
    a.vc.proc.kill("SIGKILL");
    await a.vc.proc.exited;
    a = await host("esx01.lab", dir, { statePath: stateA });
    const again = await findVm(a.s);
    expect(again).toBeDefined();
    expect((await vmProps(a.s, again!)).powerState).toBe("poweredOff");
    const t = await a.s.waitTask(await powerOn(a.s, again!));
    expect(t.info).toMatch(/type="FileLocked"/); // B runs it
    await a.s.ok(`<UnregisterVM xmlns="urn:vim25"><_this type="VirtualMachine">${again}</_this></UnregisterVM>`);
    expect(await findVm(a.s)).toBeUndefined();
    expect(JSON.parse(readFileSync(stateA, "utf8"))).toEqual({ vms: [] });
  });
});

describe("the uuid question's other answers", () => {
  test("'I copied it' gives a new uuid and MACs; 'Cancel' fails the power-on and frees the lock", async () => {
    const dir = newDatastore();
    const a = await host("esx11.lab", dir, { sharedVms: ["vcsa"] });
    const b = await host("esx12.lab", dir);
    const vmA = (await findVm(a.s))!;
    const before = await vmProps(a.s, vmA);
    const vmB = (await registerVm(b.s)).vm!;

    // Cancel
    let task = await powerOn(b.s, vmB);
    let q = await until("the question", async () => (await vmProps(b.s, vmB)).questionId);
    expect((await answer(b.s, vmB, q, "0")).status).toBe(200);
    const cancelled = await b.s.waitTask(task);
    expect(cancelled.state).toBe("error");
    expect(cancelled.info).toMatch(/type="RequestCanceled"/);
    expect((await lockOf(b.vc)).locked).toBe(false);
    expect((await vmProps(b.s, vmB)).powerState).toBe("poweredOff");

    // I copied it
    task = await powerOn(b.s, vmB);
    q = await until("the question", async () => (await vmProps(b.s, vmB)).questionId);
    await answer(b.s, vmB, q, "2");
    expect((await b.s.waitTask(task)).state).toBe("success");
    const after = await vmProps(b.s, vmB);
    expect(after.uuid).not.toBe(before.uuid!);
    expect(after.macs.length).toBeGreaterThan(0);
    expect(after.macs).not.toEqual(before.macs);
    expect(readFileSync(join(dir, "vcsa/vcsa.vmx"), "utf8")).toContain(`uuid.bios = "${after.uuid!.replace(/-/g, "").match(/../g)!.slice(0, 8).join(" ")}`);

    // powered off and on again on the same host: no question
    await b.s.waitTask(tag(await b.s.ok(`<PowerOffVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${vmB}</_this></PowerOffVM_Task>`), "returnval")!);
    expect((await lockOf(b.vc)).locked).toBe(false);
    expect((await b.s.waitTask(await powerOn(b.s, vmB))).state).toBe("success");
  });

  test("uuidQuestion 'path': no question on a same-path re-register, a question when the volume uuid differs", async () => {
    const dir = newDatastore();
    const a = await host("esx21.lab", dir, { sharedVms: ["vcsa"], uuidQuestion: "path" });
    const b = await host("esx22.lab", dir, { uuidQuestion: "path" });
    const vmB = (await registerVm(b.s)).vm!;
    expect((await b.s.waitTask(await powerOn(b.s, vmB))).state).toBe("success");
    await b.vc.stop();

    const snap = await host("esx23.lab", dir, { uuidQuestion: "path", datastores: [{ dir, uuid: "5f000000-11111111-2222-333333333333" }] });
    const vmC = (await registerVm(snap.s)).vm!;
    await until("B's lock to go away", async () => !(await lockOf(snap.vc)).locked);
    await powerOn(snap.s, vmC);
    expect(await until("the question", async () => (await vmProps(snap.s, vmC)).questionId)).toMatch(/^_vmx/);
    expect(a.vc.proc.exitCode).toBeNull();
  });
});

describe("host agent dead, VM alive", () => {
  test("the SOAP port refuses, answers 503 or hangs while the lock stays fresh; then it comes back", async () => {
    const dir = newDatastore();
    const ttl = 2.5; // a little slack: the assertion below needs a heartbeat within the last TTL on a loaded machine
    const a = await host("esx31.lab", dir, { sharedVms: ["vcsa:on"], lockTtlSeconds: ttl });
    const b = await host("esx32.lab", dir, { lockTtlSeconds: ttl });
    const vmB = (await registerVm(b.s)).vm!;

    await a.vc.agent("stopped");
    await expect(a.s.serviceContent()).rejects.toThrow();
    await Bun.sleep((ttl + 1) * 1000); // longer than the TTL: only the heartbeat keeps the lock
    expect(await lockOf(b.vc)).toMatchObject({ locked: true, stale: false, host: "esx31.lab" });
    const t = await b.s.waitTask(await powerOn(b.s, vmB));
    expect(t.info).toMatch(/type="FileLocked"/);

    await a.vc.agent("unavailable");
    const r503 = await a.s.call(`<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>`);
    expect(r503.status).toBe(503);

    await a.vc.agent("hung");
    const hung = fetch(a.vc.url, { method: "POST", body: "<x/>", tls: { ca: a.vc.certPem }, signal: AbortSignal.timeout(500) });
    await expect(hung).rejects.toThrow();

    await a.vc.agent("running");
    expect(tag((await a.s.serviceContent()).body, "apiType")).toBe("HostAgent"); // same cert, same port
    expect((await vmProps(a.s, (await findVm(a.s))!)).powerState).toBe("poweredOn");
    await expect(a.vc.agent("sideways" as never)).rejects.toThrow(/state must be/);
  });

  test("SIGUSR1 stops the agent and SIGUSR2 starts it", async () => {
    const { vc, s } = await host("esx41.lab", newDatastore());
    vc.proc.kill("SIGUSR1");
    await until("the agent to stop", async () => s.serviceContent().then(() => false, () => true));
    vc.proc.kill("SIGUSR2");
    await until("the agent to start", async () => s.serviceContent().then(() => true, () => false));
  });
});
