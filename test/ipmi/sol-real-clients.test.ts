// SOL through the real clients on a pseudo-terminal, against the engine on loopback with an
// echo console: ipmitool lanplus (-C 17, -C 3; ~. escape; sol deactivate + activate, as
// Ironic does; a second activation; sol info/set), freeipmi ipmiconsole (-I 3, -I 17; &.
// escape), Ironic's socat console, and tshark over all ipmitool traffic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, createServer, type Socket } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { bindIpmiUdp, type IpmiUdpBinding } from "../../src/ipmi/server/udp.ts";
import { echoConsole, type EchoConsole } from "../support/ipmi/echo-console.ts";
import { ADMIN, run, startEngine, stopChild, type EngineUnderTest } from "../support/ipmi/peers.ts";
import { until } from "../support/ipmi/sol-raw.ts";
import { onPty, type PtyResult, type PtyStep } from "../support/ipmi/pty.ts";
import { type Capture, ipmiProblems, startCapture } from "../support/ipmi/tshark.ts";

/** 400 numbered lines (5.6 KB): what the console prints for "dump". */
const LISTING = Array.from({ length: 400 }, (_, i) => `line ${String(i + 1).padStart(4, "0")}\r\n`).join("");

let con: EchoConsole;
let e: EngineUnderTest;
let capture: Capture;
let dir: string;
/** ipmiconsole 1.6 has no port option: the engine also listens on 127.a.b.c:623. */
let consoleHost: string;
let at623: IpmiUdpBinding;

/**
 * Two idle SOL sessions that run beside the other tests, on engines of their own, until the
 * keepalive test: ipmitool sends Get Device ID every 15 s, ipmiconsole Get Channel Payload
 * Version every 20 s.
 */
interface IdleSol {
  bmc: EngineUnderTest;
  go: string;
  done: Promise<PtyResult>;
  /** When each datagram arrived (ms since the session started). */
  arrivals: number[];
  startedAt: number;
  extra?: IpmiUdpBinding;
}
let idleTool: IdleSol;
let idleConsole: IdleSol;

function randomLoopback(): string {
  return `127.${50 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

async function startIdle(name: string, cmd: (bmc: EngineUnderTest, host: string) => string[], ready: string, escape: string, needs623: boolean): Promise<IdleSol> {
  const bmc = await startEngine({ sol: echoConsole({ banner: "login: " }) });
  const host = randomLoopback();
  const extra = needs623 ? await bindIpmiUdp(host, 623, bmc.engine) : undefined;
  const go = join(dir, `go-${name}`);
  const idle: IdleSol = { bmc, go, arrivals: [], startedAt: Date.now(), extra, done: Promise.resolve(undefined as unknown as PtyResult) };
  const orig = bmc.engine.handleDatagram.bind(bmc.engine);
  bmc.engine.handleDatagram = (buf, src, path) => {
    idle.arrivals.push(Date.now() - idle.startedAt);
    return orig(buf, src, path);
  };
  idle.done = onPty([{ expect: ready, timeout: 15 }, { wait_file: go, timeout: 50 }, { send: escape }, { exit_timeout: 10 }], cmd(bmc, host), 70_000);
  return idle;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "esxkit-sol-"));
  con = echoConsole({ banner: "login: ", reply: (typed) => (typed.includes("dump\r") ? LISTING : undefined) });
  e = await startEngine({ sol: con, cipherSuites: [17, 3] });
  consoleHost = randomLoopback();
  at623 = await bindIpmiUdp(consoleHost, 623, e.engine);
  idleTool = await startIdle("ipmitool", (b) => [...ipmitool(17, b.port), "sol", "activate"], "SOL Session operational", "~.", false);
  idleConsole = await startIdle("ipmiconsole", (_b, host) => ["ipmiconsole", "-h", host, "-u", ADMIN.name, "-p", ADMIN.password, "-I", "3"], "SOL established", "&.", true);
  capture = await startCapture(e.port);
});

afterAll(async () => {
  await capture?.stop();
  await at623?.close();
  for (const idle of [idleTool, idleConsole]) {
    if (!idle) continue;
    writeFileSync(idle.go, "");
    await idle.done;
    await idle.extra?.close();
    await idle.bmc.close();
    idle.bmc.engine.stop();
  }
  await e?.close();
  e?.engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ipmitool = (suite: number, port = e.port) => ["ipmitool", "-I", "lanplus", "-C", String(suite), "-H", "127.0.0.1", "-p", String(port), "-U", ADMIN.name, "-P", ADMIN.password];
const ipmiconsole = (suite: number) => ["ipmiconsole", "-h", consoleHost, "-u", ADMIN.name, "-p", ADMIN.password, "-I", String(suite)];

/** Starts a console session, sees the banner, types a line and sees its echo, then leaves with `escape`. */
function echoSession(ready: RegExp, escape: string, word: string): PtyStep[] {
  return [
    { expect: ready.source, timeout: 15 },
    { expect: "login: ", timeout: 5 },
    { send: `${word}\r` },
    { expect: word, timeout: 5 },
    { sleep: 0.2 },
    { send: escape },
    { exit_timeout: 10 },
  ];
}

async function solEnded(): Promise<void> {
  await until(() => !e.engine.solStatus().active, 5000, "SOL deactivation");
}

describe("ipmitool sol activate", () => {
  test.each([[17], [3]])("-C %d: output reaches the terminal, keystrokes the console, ~. ends it", async (suite) => {
    const before = con.ports.length;
    const word = `hello-${suite}`;
    const r = await onPty(echoSession(/SOL Session operational/, "~.", word), [...ipmitool(suite), "sol", "activate"]);
    expect(r.ok).toBe(true);
    expect(r.output).toContain(`login: ${word}`);
    expect(r.output).toContain("[terminated ipmitool]");
    expect(r.exit_code).toBe(0);
    expect(con.ports.length).toBe(before + 1);
    expect(con.last()!.received()).toBe(`${word}\r`);
    // ipmitool sends Deactivate Payload on ~.
    await solEnded();
    expect(con.last()!.closed).toBe(true);
  });

  test("a long listing arrives complete, in order, each line once (stop-and-wait, 251-byte packets)", async () => {
    const r = await onPty(
      [{ expect: "SOL Session operational", timeout: 15 }, { send: "dump\r" }, { expect: "line 0400", timeout: 15 }, { sleep: 0.2 }, { send: "\r~." }, { exit_timeout: 10 }],
      [...ipmitool(17), "sol", "activate"],
    );
    expect(r.ok).toBe(true);
    const lines = r.output.split(/\r\n|\r|\n/).filter((l) => /^line \d{4}$/.test(l));
    expect(lines).toEqual(Array.from({ length: 400 }, (_, i) => `line ${String(i + 1).padStart(4, "0")}`));
    await solEnded();
  });

  test("on a lossy path (every 4th SOL packet out and every 6th datagram in lost) the listing still arrives once, in order", async () => {
    const bmc = await startEngine({ sol: echoConsole({ reply: (t) => (t.includes("dump\r") ? LISTING : undefined) }) });
    let out = 0;
    let inbound = 0;
    const orig = bmc.engine.handleDatagram.bind(bmc.engine);
    bmc.engine.handleDatagram = async (buf, src, path) => {
      const sol = buf.length > 5 && (buf[5]! & 0x3f) === 1;
      if (sol && ++inbound % 6 === 0) return undefined;
      const lossy = path && { localPort: path.localPort, send: (d: Uint8Array) => void (++out % 4 !== 0 && path.send(d)) };
      return orig(buf, src, lossy);
    };
    try {
      const tool = ipmitool(17, bmc.port);
      expect((await run("ipmitool", [...tool.slice(1), "sol", "set", "retry-interval", "5"], 30_000)).code).toBe(0);
      const r = await onPty(
        [{ expect: "SOL Session operational", timeout: 15 }, { send: "dump\r" }, { expect: "line 0400", timeout: 30 }, { sleep: 0.2 }, { send: "\r~." }, { exit_timeout: 10 }],
        [...tool, "sol", "activate"],
        60_000,
      );
      expect(r.ok).toBe(true);
      const lines = r.output.split(/\r\n|\r|\n/).filter((l) => /^line \d{4}$/.test(l));
      expect(lines).toEqual(Array.from({ length: 400 }, (_, i) => `line ${String(i + 1).padStart(4, "0")}`));
      expect(bmc.engine.stats().solRetransmits).toBeGreaterThan(0);
      expect(bmc.engine.stats().solGiveUps).toBe(0);
    } finally {
      await bmc.close();
      bmc.engine.stop();
    }
  }, 60_000);

  test("a second activation is refused as already active; sol deactivate then activate works at once (Ironic)", async () => {
    const go = join(dir, "go-first");
    const first = onPty([{ expect: "SOL Session operational", timeout: 15 }, { wait_file: go, timeout: 30 }, { send: "~." }, { exit_timeout: 10 }], [...ipmitool(17), "sol", "activate"], 60_000);
    await until(() => e.engine.solStatus().active, 15_000, "the first activation");
    const second = await run("ipmitool", [...ipmitool(17).slice(1), "sol", "activate"], 30_000);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain("SOL payload already active on another session");
    const deact = await run("ipmitool", [...ipmitool(17).slice(1), "sol", "deactivate"], 30_000);
    expect(deact.code).toBe(0);
    expect(e.engine.solStatus().active).toBe(false);
    const third = await onPty(echoSession(/SOL Session operational/, "~.", "again"), [...ipmitool(3), "sol", "activate"]);
    expect(third.ok).toBe(true);
    expect(third.exit_code).toBe(0);
    await solEnded();
    writeFileSync(go, "");
    const r = await first;
    // The first console's own Deactivate finds nothing left to deactivate.
    expect(r.ok).toBe(true);
    expect(r.output).toContain("[terminated ipmitool]");
  });

  test("sol info and sol set", async () => {
    const bmc = await startEngine({ sol: echoConsole() });
    try {
      const tool = ipmitool(17, bmc.port).slice(1);
      let r = await run("ipmitool", [...tool, "sol", "info"], 30_000);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Enabled                         : true");
      expect(r.stdout).toContain("Privilege Level                 : USER");
      expect(r.stdout).toContain("Character Accumulate Level (ms) : 60");
      expect(r.stdout).toContain("Retry Interval (ms)             : 500");
      expect(r.stdout).toContain(`Payload Port                    : ${bmc.port}`);
      expect(r.stderr).toBe("");
      for (const [param, value] of [
        ["character-send-threshold", "50"],
        ["retry-count", "3"],
        ["privilege-level", "operator"],
        ["volatile-bit-rate", "57.6"],
      ]) {
        r = await run("ipmitool", [...tool, "sol", "set", param!, value!], 30_000);
        expect(r.code).toBe(0);
      }
      r = await run("ipmitool", [...tool, "sol", "info"], 30_000);
      expect(r.stdout).toContain("Character Send Threshold        : 50");
      expect(r.stdout).toContain("Retry Count                     : 3");
      expect(r.stdout).toContain("Privilege Level                 : OPERATOR");
      expect(r.stdout).toContain("Volatile Bit Rate (kbps)        : 57.6");
      r = await run("ipmitool", [...tool, "sol", "set", "enabled", "false"], 30_000);
      expect(r.code).toBe(0);
      r = await run("ipmitool", [...tool, "sol", "activate"], 30_000);
      expect(r.stderr).toContain("SOL payload disabled");
    } finally {
      await bmc.close();
      bmc.engine.stop();
    }
  });
});

describe("freeipmi ipmiconsole", () => {
  test.each([[3], [17]])("-I %d: output, keystrokes, a long listing complete, &. ends it", async (suite) => {
    const word = `abc-${suite}`;
    const steps = echoSession(/\[SOL established\]/, "&.", word);
    // Before the escape: the listing, then a fresh line for "&." to count as an escape.
    steps.splice(4, 0, { send: "dump\r" }, { expect: "line 0400", timeout: 15 }, { send: "\r" });
    const r = await onPty(steps, ipmiconsole(suite));
    expect(r.ok).toBe(true);
    const lines = r.output.split(/\r\n|\r|\n/).filter((l) => /^line \d{4}$/.test(l));
    expect(lines.length).toBe(400);
    expect(new Set(lines).size).toBe(400);
    expect(r.output).toContain(`login: ${word}`);
    expect(r.output).toContain("[closing the connection]");
    expect(r.exit_code).toBe(0);
    expect(con.last()!.received()).toBe(`${word}\rdump\r\r`);
    await solEnded();
  });
});

describe("serial break", () => {
  // Each client's escape for a break, typed after a few characters: the console sees one break,
  // after those characters, and none of the escape's own bytes.
  test.each([
    ["ipmitool ~B", () => [...ipmitool(17), "sol", "activate"], /SOL Session operational/, "~B", "~."],
    ["ipmiconsole &B", () => ipmiconsole(17), /\[SOL established\]/, "&B", "&."],
  ])("%s: one break reaches the console, in order with the keystrokes", async (_name, cmd, ready, breakKeys, escape) => {
    const r = await onPty(
      [
        { expect: ready.source, timeout: 15 },
        { expect: "login: ", timeout: 5 },
        { send: "ab\r" },
        { expect: "ab", timeout: 5 },
        { sleep: 0.3 },
        { send: breakKeys },
        { sleep: 0.5 },
        { send: "c\r" },
        { expect: "c", timeout: 5 },
        { sleep: 0.3 },
        { send: escape },
        { exit_timeout: 10 },
      ],
      cmd(),
    );
    expect(r.ok).toBe(true);
    expect(r.exit_code).toBe(0);
    const port = con.last()!;
    expect(port.received()).toBe("ab\rc\r");
    expect(port.breaks).toEqual([3]);
    await solEnded();
  });
});

describe("Ironic's socat console", () => {
  test("a TCP client gets a working console; sol deactivate before each start, as Ironic does, frees a killed client's payload", async () => {
    const tcpPort = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const socat = spawn(
      "socat",
      [`TCP4-LISTEN:${tcpPort},bind=127.0.0.1,reuseaddr,fork,max-children=1`, `EXEC:"${ipmitool(17).join(" ")} sol activate",pty,stderr`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      for (const word of ["first-visit", "second-visit"]) {
        await run("ipmitool", [...ipmitool(17).slice(1), "sol", "deactivate"], 30_000);
        expect(e.engine.solStatus().active).toBe(false);
        const seen = await tcpConsole(tcpPort, word);
        expect(seen).toContain("SOL Session operational");
        expect(seen).toContain(word);
        expect(con.last()!.received()).toContain(`${word}\r`);
        // socat kills ipmitool when the TCP client leaves: no Deactivate Payload is sent, and
        // the payload stays with the dead session until its idle timeout or a deactivate.
        await until(() => socatChildren(socat.pid!) === 0, 5000, "socat's ipmitool to exit");
        expect(e.engine.solStatus().active).toBe(true);
      }
    } finally {
      await stopChild(socat);
    }
    await run("ipmitool", [...ipmitool(17).slice(1), "sol", "deactivate"], 30_000);
  });
});

/** How many children a process has (socat's forked connection handlers and their ipmitool). */
function socatChildren(pid: number): number {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Connects to the socat console, waits for the banner, types `word`, waits for its echo, hangs up. */
async function tcpConsole(port: number, word: string): Promise<string> {
  const sock: Socket = await new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const attempt = () => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => resolve(s));
      s.once("error", (err) => (Date.now() < deadline ? setTimeout(attempt, 100) : reject(err)));
    };
    attempt();
  });
  let seen = "";
  sock.on("data", (d) => (seen += d.toString("latin1")));
  try {
    await until(() => seen.includes("login: "), 15_000, "the console banner over socat");
    sock.write(`${word}\r`);
    await until(() => seen.includes(word), 5000, "the echo over socat");
    return seen;
  } finally {
    sock.destroy();
  }
}

describe("keepalives while SOL is active", () => {
  test("ipmitool's Get Device ID and ipmiconsole's Get Channel Payload Version are answered; both sessions stay up", async () => {
    // ipmitool's first keepalive comes after 15 s, ipmiconsole's after 20 s of silence
    // (measured: 16 s and 20.4 s after the session started); the margin is for a busy host.
    const wait = 24_500 - (Date.now() - idleConsole.startedAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const toolSession = idleTool.bmc.engine.solStatus().sessionId;
    expect(toolSession).toBeDefined();
    const deviceIds = idleTool.bmc.chassis.calls.filter((c) => c.netFn === 6 && c.cmd === 1 && c.session?.id === toolSession);
    // One before Activate Payload, then the keepalive(s).
    expect(deviceIds.length).toBeGreaterThanOrEqual(2);
    expect(idleConsole.bmc.engine.solStatus().active).toBe(true);
    expect(idleConsole.arrivals.filter((t) => t > 15_000).length).toBeGreaterThanOrEqual(1);
    for (const idle of [idleTool, idleConsole]) writeFileSync(idle.go, "");
    const [tool, ipmicon] = await Promise.all([idleTool.done, idleConsole.done]);
    expect(tool.ok).toBe(true);
    expect(tool.exit_code).toBe(0);
    expect(tool.output).not.toContain("No response to keepalive");
    expect(ipmicon.ok).toBe(true);
    expect(ipmicon.exit_code).toBe(0);
    expect(ipmicon.output).toContain("[closing the connection]");
  }, 60_000);
});

describe("tshark", () => {
  test("decodes the SOL traffic of the ipmitool sessions with no malformed frame", async () => {
    const file = await capture.stop();
    expect(existsSync(file)).toBe(true);
    const r = await run("tshark", ["-r", file, "-d", `udp.port==${e.port},rmcp`, "-Y", `udp.srcport == ${e.port} && ipmi_session.payloadtype == 1`, "-T", "fields", "-e", "frame.number"], 30_000);
    expect(r.stdout.trim().split("\n").filter(Boolean).length).toBeGreaterThan(3);
    expect(await ipmiProblems(file, e.port)).toBe("");
  });
});
