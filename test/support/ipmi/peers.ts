// Real IPMI peers for tests, all on 127.0.0.1 and random ports: our engine over UDP,
// OpenIPMI's ipmi_sim, pyghmi's Bmc server, and a bounded process runner (tshark: ./tshark.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IpmiSessionEngine, type EngineOptions } from "../../../src/ipmi/server/engine.ts";
import { bindIpmiUdp, type IpmiUdpBinding } from "../../../src/ipmi/server/udp.ts";
import { fakeChassis, type FakeChassis } from "./chassis-handler.ts";

/** RFC 4122 GUID 6b1c4e52-9a3f-4d11-8e27-005056a1b2c3 (version 4) in IPMI wire order: bytes reversed (IPMI v2.0 §20.8). */
export const TEST_GUID = new Uint8Array([0xc3, 0xb2, 0xa1, 0x56, 0x50, 0x00, 0x27, 0x8e, 0x11, 0x4d, 0x3f, 0x9a, 0x52, 0x4e, 0x1c, 0x6b]);
export const ADMIN = { name: "admin", password: "s3cret-Pw", maxPrivilege: 4 as const };
export const OPERATOR = { name: "oper", password: "oper-Pw-1", maxPrivilege: 3 as const };
export const PYTHON = "/usr/bin/python3";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed at the time limit. */
  timedOut: boolean;
}

/** Runs a command to completion, killing it at `timeoutMs` (never hangs). */
export function run(cmd: string, args: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err), timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** A UDP port that was free a moment ago (for peers that need a port number in a config file). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface EngineUnderTest {
  engine: IpmiSessionEngine;
  chassis: FakeChassis;
  binding: IpmiUdpBinding;
  port: number;
  close(): Promise<void>;
}

/**
 * Makes the engine "lose" its reply to the first datagram that runs a chassis control (the
 * control runs, the answer is never sent), so the client has to retransmit.
 */
export function loseFirstControlReply(e: EngineUnderTest): { dropped(): number; restore(): void } {
  const orig = e.engine.handleDatagram.bind(e.engine);
  let dropped = 0;
  e.engine.handleDatagram = async (buf, source) => {
    const before = e.chassis.controls.length;
    const out = await orig(buf, source);
    if (e.chassis.controls.length > before && dropped === 0) {
      dropped++;
      return undefined;
    }
    return out;
  };
  return {
    dropped: () => dropped,
    restore: () => {
      e.engine.handleDatagram = orig;
    },
  };
}

/** Our engine on 127.0.0.1:random in front of the in-memory chassis. */
export async function startEngine(over: Partial<EngineOptions> = {}, chassisOpts: { delayMs?: number } = {}): Promise<EngineUnderTest> {
  const chassis = fakeChassis(TEST_GUID, chassisOpts);
  const engine = new IpmiSessionEngine({ users: [ADMIN, OPERATOR], guid: TEST_GUID, handler: chassis.handler, ...over });
  const binding = await bindIpmiUdp("127.0.0.1", 0, engine);
  return { engine, chassis, binding, port: binding.address().port, close: () => binding.close() };
}

/** Waits until `child` prints `marker` on stdout or stderr (bounded). */
export function waitForOutput(child: ChildProcess, marker: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms; output: ${seen.slice(-500)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (marker.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready; output: ${seen.slice(-500)}`));
    });
  });
}

/** Signals `child` and waits for it to exit, with SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
}

export interface ExternalBmc {
  port: number;
  /** Everything the peer printed so far. */
  output(): string;
  close(): Promise<void>;
}

/**
 * OpenIPMI ipmi_sim: IPMI 1.5 (none/MD2/MD5/straight) and RMCP+ suites 0-5, no suite 17.
 * Chassis power lives in a state file its chassis_control script reads and writes; with
 * `chassisControl: false` there is no script and ipmi_sim answers from its own state (the
 * benchmarks' baseline: no shell started per request).
 */
export async function startIpmiSim(user = ADMIN, opts: { chassisControl?: boolean } = {}): Promise<ExternalBmc> {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-ipmisim-"));
  mkdirSync(join(dir, "state"));
  const port = await freeUdpPort();
  const script = join(dir, "chassis.sh");
  writeFileSync(
    script,
    `#!/bin/sh
# ipmi_sim chassis_control: $1 = MC address, $2 = get|set, then names (get) or name value pairs (set)
state="${dir}/power"
shift
op=$1; shift
if [ "$op" = get ]; then
  for p in "$@"; do
    case $p in
      power) echo "power:$(cat "$state" 2>/dev/null || echo 0)";;
      boot) echo "boot:none";;
    esac
  done
else
  while [ $# -gt 0 ]; do
    case $1 in power) echo "$2" > "$state"; echo "power set $2" >> "${dir}/log";; esac
    shift 2
  done
fi
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, "lan.conf"),
    `name "esxkit-test"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcdef
  endlan
${opts.chassisControl === false ? "" : `  chassis_control "${script} 0x20"\n`}  user 2 true "${user.name}" "${user.password}" admin 10 md5
`,
  );
  writeFileSync(join(dir, "sim.emu"), "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n");
  const child = spawn("ipmi_sim", ["-c", join(dir, "lan.conf"), "-f", join(dir, "sim.emu"), "-s", join(dir, "state"), "-n", "-d"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  try {
    // ipmi_sim prints nothing reliable when ready; poll with an ASF ping instead.
    await waitForPong(port, 5000, "ipmi_sim");
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}; ipmi_sim output: ${out.slice(-500)}`);
  }
  return {
    port,
    output: () => out,
    async close() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** pyghmi's Bmc server class (RMCP+ suite 3 only) with in-memory power. */
export async function startPyghmiBmc(user = ADMIN): Promise<ExternalBmc> {
  const port = await freeUdpPort();
  const child = spawn(PYTHON, [join(import.meta.dir, "pyghmi_bmc.py"), String(port), user.name, user.password], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  await waitForOutput(child, /ready/, 10_000, "pyghmi Bmc");
  return { port, output: () => out, close: () => stopChild(child) };
}

/** An RMCP/ASF presence ping (message tag 0). */
export const PRESENCE_PING = new Uint8Array([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x00, 0x00, 0x00]);

/** Sends ASF presence pings until one is answered (bounded). */
export async function waitForPong(port: number, timeoutMs: number, what: string): Promise<void> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  try {
    await new Promise<void>((resolve, reject) => {
      const ping = PRESENCE_PING;
      const iv = setInterval(() => s.send(ping, port, "127.0.0.1"), 100);
      const timer = setTimeout(() => {
        clearInterval(iv);
        reject(new Error(`${what} did not answer a presence ping within ${timeoutMs} ms`));
      }, timeoutMs);
      s.on("message", (m) => {
        if (m.length >= 9 && m[8] === 0x40) {
          clearInterval(iv);
          clearTimeout(timer);
          resolve();
        }
      });
      s.send(ping, port, "127.0.0.1");
    });
  } finally {
    s.close();
  }
}
