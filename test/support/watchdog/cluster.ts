// A small "cluster" for watchdog tests: several ESX-mode simulator processes sharing one
// datastore directory, each behind a fake physical BMC (fake_bmc.py, pyghmi) that starts it,
// kills it on `power off` and restarts it on `power on`. Each host keeps its port, TLS
// certificate, control socket and persisted inventory across restarts.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import type { EsxiConfig } from "../../../src/config/types.ts";
import { buildVcsim, vcsimBinary } from "../vcsim.ts";

const here = import.meta.dir;
const FAKE_BMC = resolve(here, "fake_bmc.py");
const BLACKHOLE = resolve(here, "blackhole.py");
const PYTHON = "/usr/bin/python3";
export const HOST_USER = "root";
export const HOST_PASSWORD = "esx-test-pass";
export const BMC_USER = "ADMIN";
export const BMC_PASSWORD = "bmc-test-pass";
export const VM_NAME = "vcsa";
const WAIT_MS = 30_000;

export interface HostSpec {
  name: string;
  /** Mount the shared datastore, under this name (default "shared-ds"); false = no shared datastore. */
  datastore?: string | false;
  /** The protected VM is created here and powered on at first start. */
  runsVm?: boolean;
  /** Extra simulator flags. */
  args?: string[];
  /** The host's hardware uuid (simulator -host-uuid); default a random one. */
  uuid?: string;
  /** What the fake BMC's Get System GUID reports: default the host's uuid; false = not supported (0xC1). */
  bmcGuid?: string | false;
  /** The byte order the fake BMC sends the GUID in (default smbios). */
  guidOrder?: "rfc4122" | "smbios" | "reversed";
}

export interface ClusterOptions {
  hosts: HostSpec[];
  /** vmx lock TTL in seconds (simulator -lock-ttl). */
  lockTtlS?: number;
  /** A command prefix for the BMC and host processes, e.g. nsenter into a network namespace. */
  wrap?: string[];
}

interface BmcEvent {
  event: string;
  pid?: number;
  killed?: number | null;
  ready?: { url: string; thumbprint_sha256: string; control?: string };
  error?: string;
  port?: number;
}

export class SimHost {
  hostPid: number | undefined;
  /** hardware.systemInfo.uuid */
  uuid = "";
  url = "";
  thumbprint = "";
  bmcPort = 0;
  events: BmcEvent[] = [];
  #waiters: Array<{ match: (e: BmcEvent) => boolean; resolve: (e: BmcEvent) => void }> = [];
  bmcProc?: Subprocess<"pipe", "pipe", "pipe">;

  constructor(
    readonly spec: HostSpec,
    readonly port: number,
    readonly controlPath: string,
    readonly logFile: string,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  esxi(): EsxiConfig {
    return {
      name: this.name,
      url: this.url,
      username: HOST_USER,
      password: HOST_PASSWORD,
      tls: { mode: "thumbprint", thumbprint: this.thumbprint },
      timeout_ms: 3000,
      bmc: { address: "127.0.0.1", port: this.bmcPort, username: BMC_USER, password: BMC_PASSWORD, cipher_suite: 17, privilege: "administrator" },
    };
  }

  onEvent(e: BmcEvent): void {
    this.events.push(e);
    if (e.event === "host_started" && e.ready) {
      this.hostPid = e.pid;
      this.url = e.ready.url;
      this.thumbprint = e.ready.thumbprint_sha256;
    }
    if (e.event === "power_off") this.hostPid = undefined;
    for (const w of [...this.#waiters]) {
      if (w.match(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  /** The next (or an already seen, when `seen`) BMC event matching. Bounded. */
  waitEvent(match: (e: BmcEvent) => boolean, what: string, timeoutMs = WAIT_MS): Promise<BmcEvent> {
    return new Promise((resolveEvent, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no BMC event "${what}" within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolveEvent(e);
        },
      });
    });
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  /** SIGKILL the host process: a crash (the chassis stays "on"). */
  crash(): void {
    if (this.hostPid) process.kill(this.hostPid, "SIGKILL");
  }

  /** SIGSTOP: a hung host (API gone, lock goes stale, BMC still says on). */
  hang(): void {
    if (this.hostPid) process.kill(this.hostPid, "SIGSTOP");
  }

  unhang(): void {
    if (this.hostPid) process.kill(this.hostPid, "SIGCONT");
  }

  /**
   * Workaround (test/vcsim/REQUESTS.md, watchdog 1): the simulator's first agent change waits for
   * in-flight requests, so flip the agent once before any client holds a long-poll open.
   */
  async prepareAgentControl(): Promise<void> {
    await this.control({ cmd: "agent", state: "unavailable" });
    await this.setAgent("running");
  }

  /** Switch the host agent (SOAP port); retried while the simulator's old listener lingers (REQUESTS.md, watchdog 2). */
  async setAgent(state: "running" | "stopped" | "unavailable" | "hung"): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.control({ cmd: "agent", state });
        return;
      } catch (err) {
        if (i >= 40 || !String(err).includes("address already in use")) throw err;
        await Bun.sleep(50);
      }
    }
  }

  /** The BMC stops answering (its process is stopped; the host keeps running). */
  bmcUnreachable(): void {
    this.bmcProc?.kill("SIGSTOP");
  }

  bmcReachable(): void {
    this.bmcProc?.kill("SIGCONT");
  }

  /** One command on the simulator's control socket. */
  async control(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    return controlCommand(this.controlPath, cmd);
  }

  /** ipmitool against this host's fake BMC (a real peer, suite 3 because pyghmi only does 3). */
  async ipmitool(...args: string[]): Promise<string> {
    const proc = Bun.spawn(["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(this.bmcPort), "-U", BMC_USER, "-E", "-N", "1", "-R", "3", ...args], {
      env: { ...process.env, IPMI_PASSWORD: BMC_PASSWORD },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`ipmitool ${args.join(" ")}: exit ${code}: ${err}`);
    return out.trim();
  }
}

export async function controlCommand(path: string, cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  let buffered = "";
  let done: (v: Record<string, unknown>) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const answer = new Promise<Record<string, unknown>>((res, rej) => {
    done = res;
    fail = rej;
  });
  // A host that is down refuses the connection: nobody awaits `answer` then.
  answer.catch(() => undefined);
  const timer = setTimeout(() => fail(new Error(`control ${JSON.stringify(cmd)}: no answer within ${timeoutMs} ms`)), timeoutMs);
  const sock = await Bun.connect({
    unix: path,
    socket: {
      data(_s, chunk) {
        buffered += chunk.toString();
        const nl = buffered.indexOf("\n");
        if (nl >= 0) done(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      },
      error(_s, e) {
        fail(e);
      },
      close() {
        fail(new Error(`control ${JSON.stringify(cmd)}: closed without an answer`));
      },
    },
  }).catch((err: unknown) => {
    clearTimeout(timer);
    throw err;
  });
  sock.write(`${JSON.stringify(cmd)}\n`);
  try {
    const r = await answer;
    if (r.ok === false) throw new Error(`control ${JSON.stringify(cmd)}: ${String(r.error)}`);
    return r;
  } finally {
    clearTimeout(timer);
    sock.end();
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; the simulator binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  } catch {
    // closed
  }
}

export class Cluster {
  readonly hosts = new Map<string, SimHost>();

  constructor(
    readonly dir: string,
    readonly datastoreDir: string,
  ) {}

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  esxi(): Record<string, EsxiConfig> {
    const out: Record<string, EsxiConfig> = {};
    for (const h of this.hosts.values()) out[h.name] = h.esxi();
    return out;
  }

  /** VMs the host's simulator reports through its control socket. */
  async vms(name: string): Promise<Array<Record<string, unknown>>> {
    const r = await this.host(name).control({ cmd: "vms" });
    return (r.vms as Array<Record<string, unknown>>) ?? [];
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.hosts.values()].map(async (h) => {
        if (h.hostPid) {
          try {
            process.kill(h.hostPid, "SIGCONT");
          } catch {
            // gone
          }
        }
        const p = h.bmcProc;
        if (!p) return;
        p.kill("SIGCONT");
        p.kill("SIGTERM");
        const t = setTimeout(() => p.kill("SIGKILL"), 5000);
        await p.exited;
        clearTimeout(t);
        // A host whose BMC died hard must not outlive the test.
        if (h.hostPid) {
          try {
            process.kill(h.hostPid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP address on loopback that never answers (connects time out), until stop(). */
export async function startBlackhole(): Promise<{ address: string; stop(): Promise<void> }> {
  const proc = Bun.spawn([PYTHON, BLACKHOLE], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const stop = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  };
  try {
    const reader = proc.stdout.getReader();
    const timer = setTimeout(() => proc.kill("SIGKILL"), WAIT_MS);
    const { value } = await reader.read();
    clearTimeout(timer);
    reader.releaseLock();
    const port = (JSON.parse(new TextDecoder().decode(value)) as { port: number }).port;
    return { address: `127.0.0.1:${port}`, stop };
  } catch (err) {
    await stop();
    throw new Error(`blackhole.py did not start: ${(err as Error).message}`);
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  await buildVcsim();
  const dir = mkdtempSync(join(tmpdir(), "esxkit-wd-"));
  const datastoreDir = join(dir, "shared-ds");
  mkdirSync(datastoreDir);
  const cluster = new Cluster(dir, datastoreDir);
  try {
    await Promise.all(opts.hosts.map((spec) => startHost(cluster, spec, opts)));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function startHost(cluster: Cluster, spec: HostSpec, opts: ClusterOptions): Promise<void> {
  const hdir = join(cluster.dir, spec.name);
  mkdirSync(hdir);
  const port = await freePort();
  const host = new SimHost(spec, port, join(hdir, "control.sock"), join(hdir, "host.log"));
  host.uuid = spec.uuid ?? randomUUID();
  cluster.hosts.set(spec.name, host);
  const base = [
    vcsimBinary,
    "-mode", "esx",
    "-vm", "0",
    "-host-name", spec.name,
    "-host-uuid", host.uuid,
    "-listen", `127.0.0.1:${port}`,
    "-tls-cert", join(hdir, "cert.pem"),
    "-tls-key", join(hdir, "key.pem"),
    "-username", HOST_USER,
    "-password", HOST_PASSWORD,
    "-state", join(hdir, "inventory.json"),
    "-lock-ttl", String(opts.lockTtlS ?? 10),
    "-control", host.controlPath,
    "-die-with-parent",
  ];
  if (spec.datastore !== false) base.push("-datastore-dir", `${spec.datastore ?? "shared-ds"}=${cluster.datastoreDir}`);
  base.push(...(spec.args ?? []));
  const first = spec.runsVm ? [...base, "-shared-vm", `${VM_NAME}:on`] : base;
  const guid = spec.bmcGuid === false ? [] : ["--system-guid", spec.bmcGuid ?? host.uuid, "--guid-order", spec.guidOrder ?? "smbios"];
  const proc = Bun.spawn([...(opts.wrap ?? []), PYTHON, FAKE_BMC, "--port", "0", "--user", BMC_USER, "--host-cmd", JSON.stringify(base), "--first-cmd", JSON.stringify(first), "--host-log", host.logFile, ...guid], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, FAKE_BMC_PASSWORD: BMC_PASSWORD },
  });
  host.bmcProc = proc;
  const ready = host.waitEvent((e) => e.event === "ready", "ready");
  void readLines(proc.stdout, (line) => {
    try {
      host.onEvent(JSON.parse(line) as BmcEvent);
    } catch {
      // not an event line
    }
  });
  let stderr = "";
  void readLines(proc.stderr, (line) => {
    stderr += `${line}\n`;
  });
  try {
    const r = await ready;
    host.bmcPort = r.port as number;
  } catch (err) {
    throw new Error(`${(err as Error).message}\nfake_bmc stderr:\n${stderr}`);
  }
  if (!host.url) throw new Error(`${spec.name}: the host did not start: ${JSON.stringify(host.events)}\n${stderr}`);
  await host.prepareAgentControl();
}
