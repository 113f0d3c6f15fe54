// The console hub's pieces: the byte ring, the rotated log file, the fan-out of one VM's serial
// port to its watchers, and which [[bmc]] an incoming VM connection belongs to.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleLogFile, logFileStem, readConsoleLog } from "../../src/bmc/console/log-file.ts";
import { MachineConsole } from "../../src/bmc/console/machine-console.ts";
import { ConsoleRegistry } from "../../src/bmc/console/registry.ts";
import { ByteRing } from "../../src/bmc/console/ring-buffer.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { bytePipe } from "../support/bmc/byte-pipe.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "esxkit-console-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("ByteRing", () => {
  test.each([
    { cap: 8, writes: ["abc"], held: "abc" },
    { cap: 8, writes: ["abcdef", "ghij"], held: "cdefghij" },
    { cap: 4, writes: ["abcdefghij"], held: "ghij" },
    { cap: 5, writes: ["ab", "cd", "ef", "gh"], held: "defgh" },
    { cap: 3, writes: [], held: "" },
  ])("capacity $cap after $writes holds $held", ({ cap, writes, held }) => {
    const r = new ByteRing(cap);
    for (const w of writes) r.push(bytes(w));
    expect(text(r.contents())).toBe(held);
    expect(r.size).toBe(held.length);
  });

  test("refuses a capacity that is not a positive integer", () => {
    expect(() => new ByteRing(0)).toThrow(/positive integer/);
  });
});

describe("ConsoleLogFile", () => {
  test.each([
    { name: "web01", stem: "web01" },
    { name: "web 01/a", stem: "web_01_a" },
    { name: "../etc", stem: "__etc" },
    { name: "", stem: "_" },
  ])("file stem of $name is $stem", ({ name, stem }) => {
    expect(logFileStem(name)).toBe(stem);
  });

  test("rotates at the cap, keeps the newest files, and reads back oldest first", () => {
    const dir = tmp();
    const log = new ConsoleLogFile({ dir, name: "vm1", maxBytes: 10, keep: 2, logger: silentLogger });
    const all = "0123456789abcdefghijKLMNOPQRSTuvwxyz";
    for (const ch of all) log.write(bytes(ch));
    log.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["vm1.log", "vm1.log.1", "vm1.log.2"]);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(10);
    expect(statSync(join(dir, "vm1.log")).mode & 0o777).toBe(0o600);
    // 36 bytes, 10 per file, 3 files kept: the oldest 6 are gone.
    expect(text(readConsoleLog(dir, "vm1", 2))).toBe(all.slice(all.length - 26));
  });

  test("lowering the number of kept files removes the ones past it", () => {
    const dir = tmp();
    const big = new ConsoleLogFile({ dir, name: "vm1", maxBytes: 4, keep: 3, logger: silentLogger });
    big.write(bytes("aaaabbbbccccdd"));
    big.close();
    expect(readdirSync(dir).sort()).toEqual(["vm1.log", "vm1.log.1", "vm1.log.2", "vm1.log.3"]);
    new ConsoleLogFile({ dir, name: "vm1", maxBytes: 4, keep: 1, logger: silentLogger }).close();
    expect(readdirSync(dir).sort()).toEqual(["vm1.log", "vm1.log.1"]);
  });

  test("a write that cannot land is reported, and the writer keeps going", () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    const log = new ConsoleLogFile({ dir: "/proc/esxkit-no-such-dir", name: "vm1", maxBytes: 100, keep: 1, logger });
    log.write(bytes("lost"));
    log.flush();
    log.write(bytes("lost again"));
    log.close();
    expect(warnings).toEqual(["console log not written; the console itself keeps working"]);
  });
});

describe("MachineConsole", () => {
  const make = (log?: ConsoleLogFile) => new MachineConsole({ name: "vm1", ringBytes: 16, log, logger: silentLogger });

  test("fans the VM's output out to every watcher, the ring and the log; input reaches the VM", () => {
    const dir = tmp();
    const c = make(new ConsoleLogFile({ dir, name: "vm1", maxBytes: 1000, keep: 1, logger: silentLogger }));
    const [vmSide, hubSide] = bytePipe();
    c.attachVm(hubSide, "192.0.2.5:4444");
    const sol = c.openWatcher("sol", "admin@127.0.0.1");
    const term = c.openWatcher("terminal", "control socket");
    const seen = { sol: "", term: "" };
    sol.onData((b) => (seen.sol += text(b)));
    term.onData((b) => (seen.term += text(b)));
    vmSide.write(bytes("login: "));
    expect(seen).toEqual({ sol: "login: ", term: "login: " });
    expect(sol.write(bytes("root\r"))).toBe(true);
    expect(term.write(bytes("x"))).toBe(true);
    expect(vmSide.text()).toBe("root\rx");
    expect(text(c.logContents())).toBe("login: ");
    expect(text(readConsoleLog(dir, "vm1", 1))).toBe("login: ");
    const s = c.status();
    expect(s).toMatchObject({ connected: true, peer: "192.0.2.5:4444", bytes_from_vm: 7, bytes_to_vm: 6, bytes_dropped: 0, connects: 1 });
    expect(s.watchers.map((w) => w.kind)).toEqual(["sol", "terminal"]);
    c.close();
  });

  test("keystrokes while the VM is away are dropped and counted; the ring keeps only the tail", () => {
    const c = make();
    const w = c.openWatcher("terminal", "t");
    expect(w.write(bytes("lost"))).toBe(true);
    const [vmSide, hubSide] = bytePipe();
    c.attachVm(hubSide, "h");
    vmSide.write(bytes("0123456789abcdefXYZ"));
    expect(text(c.recent())).toBe("3456789abcdefXYZ");
    vmSide.close("host went away");
    expect(c.status()).toMatchObject({ connected: false, bytes_dropped: 4 });
    w.close();
    expect(w.write(bytes("x"))).toBe(false);
    expect(c.status().watchers).toEqual([]);
  });

  test("a watcher's break reaches the VM's port in order; with no VM, or a port without breaks, it is dropped and counted", () => {
    const c = make();
    const sol = c.openWatcher("sol", "s");
    expect(sol.sendBreak?.()).toBe(true);
    expect(c.status()).toMatchObject({ breaks_to_vm: 0, breaks_dropped: 1 });
    const [vmSide, hubSide] = bytePipe();
    c.attachVm(hubSide, "h");
    sol.write(bytes("a"));
    expect(sol.sendBreak?.()).toBe(true);
    sol.write(bytes("b"));
    expect(vmSide.text()).toBe("ab");
    expect(vmSide.breaks).toEqual([1]);
    expect(c.status()).toMatchObject({ breaks_to_vm: 1, breaks_dropped: 1, bytes_to_vm: 2 });
    // A VM port that cannot carry a break (no sendBreak).
    const [, plain] = bytePipe();
    c.attachVm({ write: plain.write, onData: plain.onData, onClose: plain.onClose, close: plain.close }, "h2");
    expect(sol.sendBreak?.()).toBe(true);
    expect(c.status()).toMatchObject({ breaks_to_vm: 1, breaks_dropped: 2 });
    sol.close();
    expect(sol.sendBreak?.()).toBe(false);
  });

  test("a second link of the same VM replaces the first, which is closed", () => {
    const c = make();
    const [, first] = bytePipe();
    const [vm2, second] = bytePipe();
    c.attachVm(first, "a");
    c.attachVm(second, "b");
    expect(first.closedWith).toMatch(/replaced/);
    // The old link's close must not disconnect the new one.
    expect(c.status()).toMatchObject({ connected: true, peer: "b", connects: 2 });
    vm2.write(bytes("hi"));
    expect(text(c.recent())).toBe("hi");
  });

  test("a watcher that throws is detached and the others still get the output", () => {
    const c = make();
    const [vmSide, hubSide] = bytePipe();
    c.attachVm(hubSide, "h");
    const bad = c.openWatcher("sol", "bad");
    let reason = "";
    bad.onData(() => {
      throw new Error("boom");
    });
    bad.onClose((r) => (reason = r));
    const good = c.openWatcher("terminal", "good");
    let got = "";
    good.onData((b) => (got += text(b)));
    vmSide.write(bytes("a"));
    vmSide.write(bytes("b"));
    expect(got).toBe("ab");
    expect(reason).toBe("watcher failed");
    expect(c.status().watchers.map((w) => w.who)).toEqual(["good"]);
  });

  test("while the disk refuses the log, --log falls back to the ring: the output is not lost", () => {
    const log = new ConsoleLogFile({ dir: "/proc/esxkit-no-such-dir", name: "vm1", maxBytes: 100, keep: 1, logger: silentLogger });
    const c = make(log);
    const [vmSide, hubSide] = bytePipe();
    c.attachVm(hubSide, "h");
    vmSide.write(bytes("kernel panic"));
    expect(text(c.logContents())).toBe("kernel panic");
    expect(log.healthy).toBe(false);
  });

  test("close() ends the VM link and every watcher", () => {
    const c = make();
    const [, hubSide] = bytePipe();
    c.attachVm(hubSide, "h");
    const w = c.openWatcher("sol", "s");
    let closed = "";
    w.onClose((r) => (closed = r));
    c.close("BMC removed");
    expect(hubSide.closedWith).toBe("BMC removed");
    expect(closed).toBe("BMC removed");
    const [, late] = bytePipe();
    c.attachVm(late, "h");
    expect(late.closedWith).toBe("console removed");
  });
});

describe("ConsoleRegistry.match", () => {
  const reg = new ConsoleRegistry();
  const consoles = ["web", "db", "byuuid"].map((name) => new MachineConsole({ name, ringBytes: 8, logger: silentLogger }));
  reg.add({ console: consoles[0] as MachineConsole, serviceUri: "esxkit:web", vm: { by: "name", value: "web-vm" } });
  reg.add({ console: consoles[1] as MachineConsole, serviceUri: "esxkit:db", vm: { by: "name", value: "db-vm" } });
  // Selected by BIOS UUID; vCenter's watch knows its name and instance UUID too.
  reg.add({ console: consoles[2] as MachineConsole, serviceUri: "esxkit:byuuid", vm: { by: "uuid", value: "4213ABCD-0000-1111-2222-333344445555" }, known: () => ({ name: "uuid-vm", vcUuid: "501e2f00-1122-3344-5566-778899aabbcc" }) });

  test.each([
    { vm: { serviceUri: "esxkit:web", name: "web-vm" }, want: "web" },
    { vm: { serviceUri: "esxkit:web" }, refused: /names \[\[bmc\]\] "web", but the host announced nothing to check it against \(no identity\)/ },
    { vm: { serviceUri: "esxkit:byuuid", name: "uuid-vm" }, want: "byuuid" },
    { vm: { serviceUri: "esxkit:byuuid", name: "other-vm" }, refused: /announced name "other-vm", not "uuid-vm"/ },
    { vm: { serviceUri: "esxkit:byuuid", vcUuid: "50 1e 2f 00 11 22 33 44-55 66 77 88 99 aa bb cc" }, want: "byuuid" },
    { vm: { serviceUri: "esxkit:byuuid", name: "uuid-vm", biosUuid: "00000000-0000-0000-0000-000000000000" }, refused: /BIOS UUID "00000000-0000-0000-0000-000000000000", not "4213ABCD/ },
    { vm: { serviceUri: "hand-made", name: "db-vm" }, want: "db" },
    { vm: { serviceUri: "x", biosUuid: "4213abcd000011112222333344445555" }, want: "byuuid" },
    { vm: { serviceUri: "esxkit:web", name: "db-vm" }, refused: /names \[\[bmc\]\] "web", but the VM announced name "db-vm"/ },
    { vm: { serviceUri: "nobody", name: "other" }, refused: /no \[\[bmc\]\] with serial = true matches serviceURI "nobody" \(name "other"\)/ },
    { vm: { serviceUri: "nobody" }, refused: /\(no identity\)/ },
  ])("$vm", ({ vm, want, refused }) => {
    const m = reg.match(vm);
    if (want) expect(m.ok && m.console.name).toBe(want);
    else expect(!m.ok && m.reason).toMatch(refused as RegExp);
  });

  test("remove() only removes the registered console of that name", () => {
    const r = new ConsoleRegistry();
    const a = new MachineConsole({ name: "x", ringBytes: 8, logger: silentLogger });
    const b = new MachineConsole({ name: "x", ringBytes: 8, logger: silentLogger });
    r.add({ console: a, serviceUri: "u", vm: { by: "name", value: "x" } });
    r.add({ console: b, serviceUri: "u", vm: { by: "name", value: "x" } });
    r.remove(a);
    expect(r.get("x")).toBe(b);
    expect(r.acceptsServiceUri()).toBe(true);
    r.remove(b);
    expect(r.acceptsServiceUri()).toBe(false);
  });
});
