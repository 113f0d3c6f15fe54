// The vSPC through a fake ESXi serial port (test/support/vspc/vm-endpoint.ts) over loopback.
import { afterEach, describe, expect, test } from "bun:test";
import { Option } from "../../src/telnet/codes.ts";
import { VmwareCode } from "../../src/telnet/vmware-codes.ts";
import type { VmIdentity } from "../../src/vspc/types.ts";
import { DEFAULT_KNOWN, VmEndpoint, withDeadline } from "../support/vspc/vm-endpoint.ts";
import { collect, type Harness, rawClient, startHarness, until } from "./harness.ts";

const ID: VmIdentity = { serviceUri: "esxkit", direction: "server", vcUuid: "50 1e 2f 3a 4b 5c 6d 7e-8f 90 a1 b2 c3 d4 e5 f6", name: "web-01" };

let h: Harness | undefined;
const vms: VmEndpoint[] = [];
afterEach(async () => {
  for (const vm of vms.splice(0)) vm.close();
  await h?.close();
  h = undefined;
});
async function vm(opts: Partial<Parameters<typeof VmEndpoint.connect>[0]> = {}): Promise<VmEndpoint> {
  const v = await VmEndpoint.connect({ port: h!.port, identity: ID, ...opts });
  vms.push(v);
  return v;
}
const warned = (msg: string) => h!.logs.some((l) => l.level === "warn" && l.msg.includes(msg));

describe("identity", () => {
  const cases: [string, Partial<Parameters<typeof VmEndpoint.connect>[0]>, VmIdentity, number[]][] = [
    ["asked for what KNOWN-SUBOPTIONS-1 lists", {}, ID, [VmwareCode.GET_VM_VC_UUID, VmwareCode.GET_VM_NAME]],
    [
      "BIOS and location UUIDs when listed",
      { identity: { ...ID, biosUuid: "4230aa", locationUuid: "564dbb" }, known: [...DEFAULT_KNOWN, 84, 85, 86, 87] },
      { ...ID, biosUuid: "4230aa", locationUuid: "564dbb" },
      [81, 83, 85, 87],
    ],
    ["without KNOWN-SUBOPTIONS-1: VC UUID and name", { known: null }, ID, [81, 83]],
    ["volunteered identity is not asked for", { unprompted: true }, ID, []],
    ["a name the VM cannot give", { identity: { serviceUri: "esxkit", direction: "server", vcUuid: "u1" } }, { serviceUri: "esxkit", direction: "server", vcUuid: "u1" }, [81, 83]],
  ];
  for (const [name, opts, want, gets] of cases) {
    test(name, async () => {
      h = await startHarness();
      const v = await vm(opts);
      await until(() => h!.attached.length === 1, "attach");
      expect(h.attached[0]!.identity).toEqual(want);
      const asked = v.current.messages.filter((m) => m.kind.startsWith("get-vm-")).map((m) => ({ "get-vm-vc-uuid": 81, "get-vm-name": 83, "get-vm-bios-uuid": 85, "get-vm-location-uuid": 87 })[m.kind as "get-vm-name"]);
      expect(asked).toEqual(gets);
      expect(h.server.links()).toHaveLength(1);
      expect(h.server.links()[0]).toMatchObject({ identity: want, vmotions: 0, inVmotion: false });
    });
  }

  test("attach() refusing drops the connection and counts it; the warning is attach()'s owner's, who knows why", async () => {
    h = await startHarness({ refuse: (id) => id.name === "web-01" });
    const v = VmEndpoint.start({ port: h.port, identity: ID });
    vms.push(v);
    await withDeadline(v.current.closedPromise, "refused VM closed");
    expect(h.server.stats()).toMatchObject({ refused: 1, links: 0 });
    expect(warned("VM refused")).toBe(false);
    expect(h.logs.some((l) => l.level === "debug" && l.msg === "VM refused: not one of ours")).toBe(true);
  });

  test("a service URI the filter refuses gets WONT-PROXY", async () => {
    h = await startHarness({ acceptsServiceUri: (u) => u === "esxkit" });
    const v = VmEndpoint.start({ port: h.port, identity: { ...ID, serviceUri: "other" } });
    vms.push(v);
    await v.current.waitFor((m) => m.kind === "wont-proxy", "WONT-PROXY");
    await withDeadline(v.current.closedPromise, "closed");
    expect(h.attached).toHaveLength(0);
    expect(h.server.stats().refused).toBe(1);
    expect(warned("service URI refused")).toBe(true);
  });
});

describe("data", () => {
  test("both ways, with 0xFF (IAC IAC) in each direction", async () => {
    h = await startHarness();
    const v = await vm();
    await until(() => h!.attached.length === 1, "attach");
    const port = h.attached[0]!.port;
    const fromVm = collect(port);
    const payload = Uint8Array.of(0x41, 0xff, 0x42, 0xff, 0xff, 0x0d, 0x0a, 0x00, 0xf0);
    v.write(payload);
    await until(() => fromVm.bytes().length >= payload.length, "VM output");
    expect([...fromVm.bytes()]).toEqual([...payload]);
    expect(port.write(payload)).toBe(true);
    await until(() => Buffer.concat(v.input).length >= payload.length, "VM input");
    expect([...Buffer.concat(v.input)]).toEqual([...payload]);
    expect(h.server.stats()).toMatchObject({ bytesFromVm: payload.length, bytesToVm: payload.length });
    expect(h.server.links()[0]).toMatchObject({ bytesFromVm: payload.length, bytesToVm: payload.length });
  });

  test("a break goes to the VM as IAC BRK, in its place between the bytes, never as data", async () => {
    h = await startHarness();
    const v = await vm();
    await until(() => h!.attached.length === 1, "attach");
    const port = h.attached[0]!.port;
    expect(port.write(new TextEncoder().encode("ab"))).toBe(true);
    expect(port.sendBreak?.()).toBe(true);
    expect(port.write(Uint8Array.of(0xff, 0x63))).toBe(true);
    await until(() => Buffer.concat(v.input).length >= 4, "VM input");
    expect([...Buffer.concat(v.input)]).toEqual([0x61, 0x62, 0xff, 0x63]);
    expect(v.breaks).toEqual([2]);
    expect(v.otherCommands).toEqual([]);
    // On the wire: the break is IAC BRK (255 243), the data byte 0xFF is IAC IAC.
    expect(Buffer.concat(v.current.wire).toString("hex")).toContain("6162fff3ffff63");
    v.close();
    await until(() => h!.server.links().length === 0, "link closed");
    expect(port.sendBreak?.()).toBe(false);
  });

  test("output sent before the holder listens is kept; the VM closing closes the port", async () => {
    h = await startHarness();
    const v = await vm({ echo: true });
    await until(() => h!.attached.length === 1, "attach");
    v.write(new TextEncoder().encode("boot\n"));
    await Bun.sleep(30);
    const port = h.attached[0]!.port;
    const out = collect(port);
    await until(() => out.text() === "boot\n", "early output");
    port.write(new TextEncoder().encode("root\n"));
    await until(() => out.text() === "boot\nroot\n", "echo");
    const closed = new Promise<string>((r) => port.onClose(r));
    v.close();
    expect(await withDeadline(closed, "port close")).toContain("closed");
    expect(port.write(Uint8Array.of(1))).toBe(false);
  });
});

describe("telnet negotiation", () => {
  test("BINARY and SGA both ways, 232 accepted, everything else refused", async () => {
    h = await startHarness();
    const v = await vm();
    v.current.sendOption("WILL", 24); // TERMINAL-TYPE
    v.current.sendOption("DO", Option.ECHO);
    v.current.sendOption("WILL", 44); // COM-PORT-OPTION (RFC 2217)
    await until(() => v.current.options.filter((o) => o.verb === "DONT" || o.verb === "WONT").length >= 3, "refusals");
    await Bun.sleep(30); // room for a negotiation loop to show
    const got = v.current.options.map((o) => `${o.verb} ${o.option}`);
    for (const want of ["DO 232", "WILL 0", "DO 0", "WILL 3", "DO 3", "DONT 24", "WONT 1", "DONT 44"]) expect(got).toContain(want);
    // Each offer once: the VM's agreement is not answered again (no negotiation loop).
    for (const once of ["WILL 0", "DO 0", "WILL 3", "DO 3", "DO 232"]) expect(got.filter((x) => x === once)).toHaveLength(1);
    expect(got).not.toContain("DO 24");
    expect(got).not.toContain("WILL 1");
  });
});

describe("bad peers", () => {
  const garbage: [string, number[], string][] = [
    ["IAC with a non-command byte", [0xff, 0xfb, 232, 0xff, 17], "bad-command"],
    ["IAC SE without SB", [0xff, 0xf0], "stray-se"],
    ["IAC inside a subnegotiation", [0xff, 0xfa, 232, 0, 0xff, 0xfb, 1], "bad-subnegotiation"],
    ["an empty option-232 subnegotiation", [0xff, 0xfa, 232, 0xff, 0xf0], "vmware-empty"],
    ["DO-PROXY with a bad direction", [0xff, 0xfa, 232, 70, 0x58, 0xff, 0xf0], "vmware-do-proxy"],
    ["the peer refuses option 232", [0xff, 0xfc, 232], "no-vmware-extension"],
  ];
  for (const [name, bytes, reason] of garbage) {
    test(`garbage: ${name}`, async () => {
      h = await startHarness();
      const c = rawClient(h.port);
      c.socket.write(Uint8Array.from(bytes));
      await withDeadline(c.closed, "dropped");
      expect(h.server.stats().dropped).toBe(1);
      expect(h.logs.some((l) => l.level === "warn" && l.reason === reason && typeof l.peer === "string")).toBe(true);
    });
  }

  test("an oversized subnegotiation is dropped, not grown", async () => {
    h = await startHarness({ limits: { maxSubnegotiationBytes: 64 } });
    const c = rawClient(h.port);
    c.socket.write(Uint8Array.of(0xff, 0xfa, 232, 82, ...new Array(200).fill(0x61)));
    await withDeadline(c.closed, "dropped");
    expect(h.logs.some((l) => l.level === "warn" && l.reason === "subnegotiation-too-long")).toBe(true);
  });

  test("handshake timeout", async () => {
    h = await startHarness({ limits: { handshakeTimeoutMs: 150 } });
    const c = rawClient(h.port);
    c.socket.write(Uint8Array.of(0xff, 0xfb, 232));
    const ms = await withDeadline(c.closed, "dropped");
    expect(ms).toBeGreaterThanOrEqual(120);
    expect(h.server.stats().dropped).toBe(1);
    expect(h.logs.find((l) => l.msg.includes("handshake not finished"))).toMatchObject({ level: "warn", sawWillVmware: true, doProxy: false });
  });

  test("connection flood: the cap turns new connections away; the attached VM keeps working", async () => {
    h = await startHarness({ limits: { maxConnections: 3 } });
    const v = await vm();
    await until(() => h!.attached.length === 1, "attach");
    const out = collect(h.attached[0]!.port);
    const idle = [rawClient(h.port), rawClient(h.port)];
    await until(() => h!.server.stats().connections === 3, "3 connections");
    const extra = Array.from({ length: 5 }, () => rawClient(h!.port));
    for (const c of extra) await withDeadline(c.closed, "refused");
    expect(h.server.stats().refused).toBe(5);
    expect(warned("too many connections")).toBe(true);
    v.write(new TextEncoder().encode("still here"));
    await until(() => out.text() === "still here", "data after flood");
    for (const c of idle) c.socket.destroy();
  });

  test("a VM that stops reading loses bytes past the buffer, and does not hold up another VM", async () => {
    h = await startHarness({ limits: { bufferBytes: 64 * 1024 } });
    const stuck = await vm({ identity: { ...ID, vcUuid: "stuck", name: "stuck" } });
    const fine = await vm({ identity: { ...ID, vcUuid: "fine", name: "fine" } });
    await until(() => h!.attached.length === 2, "both attached");
    stuck.current.socket.pause();
    const stuckPort = h.attached.find((a) => a.identity.name === "stuck")!.port;
    const finePort = h.attached.find((a) => a.identity.name === "fine")!.port;
    const block = new Uint8Array(256 * 1024).fill(0x55);
    for (let i = 0; i < 200 && h.server.stats().overflowBytes === 0; i++) {
      expect(stuckPort.write(block)).toBe(true);
      await Bun.sleep(1);
    }
    expect(h.server.stats().overflowBytes).toBeGreaterThan(0);
    finePort.write(new TextEncoder().encode("ping"));
    await until(() => Buffer.concat(fine.input).toString() === "ping", "other VM's input");
  });

  test("50 connections of random bytes: all dropped or timed out, the server and a VM link unharmed", async () => {
    h = await startHarness({ limits: { handshakeTimeoutMs: 300 } });
    const good = await vm();
    await until(() => h!.attached.length === 1, "attach");
    const out = collect(h.attached[0]!.port);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const clients = Array.from({ length: 50 }, (_, i) => {
      const c = rawClient(h!.port);
      const prefix = i % 2 ? [0xff, 0xfb, 232] : [];
      c.socket.write(Uint8Array.from([...prefix, ...Array.from({ length: 300 }, () => (rnd() < 40 ? 0xff : rnd()))]));
      return c;
    });
    await Promise.all(clients.map((c) => withDeadline(c.closed, "random client closed")));
    const s = h.server.stats();
    expect(s.dropped + s.refused).toBe(50);
    expect(s.links).toBe(1);
    good.write(new TextEncoder().encode("alive"));
    await until(() => out.text() === "alive", "VM data after the noise");
  });
});
