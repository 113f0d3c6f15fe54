// Starts the govmomi vCenter/ESXi simulator (test/vcsim/*.go) for tests and the demo.
// The binary is built by scripts/build-vcsim.sh once per process (it rebuilds only when the Go sources change).
// Every flag is documented at the top of test/vcsim/main.go and in the extension files it lists.
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const root = resolve(import.meta.dir, "../..");
export const vcsimBinary = resolve(root, ".cache/vcsim/vcsim");
const buildScript = resolve(root, "scripts/build-vcsim.sh");

const BUILD_TIMEOUT_MS = 240_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Per-host facts (test/vcsim/hostspec.go). Every field optional; applied in place. */
export interface HostSpec {
  /** esx mode: the host's name; vpx: renames the HostSystem. */
  name?: string;
  /** hardware.systemInfo.uuid and summary.hardware.uuid. */
  uuid?: string;
  /** config.product.version / summary.config.product.version (esx mode: also ServiceContent.about). */
  version?: string;
  build?: string;
  /** config.featureCapability as key → value, e.g. {"cpuid.MDCLEAR": "1"}. */
  featureCapability?: Record<string, string>;
  maskedFeatureCapability?: Record<string, string>;
  maxEVCModeKey?: string;
  currentEVCModeKey?: string;
  /** A vmkusb BlockHba vmhba32 + ScsiDisk mpx.vmhba32:C0:T0:L0 (+ an OSDATA VMFSOS volume on it); false removes it. */
  usbBoot?: boolean;
  /** Extra block HBAs in config.storageDevice.hostBusAdapter (replaced as a set), e.g. a MegaRAID {device: "vmhba2", driver: "lsi_mr3"}. */
  hbas?: { device: string; driver: string; model?: string; pci?: string }[];
  /** config.service and HostServiceSystem.serviceInfo, e.g. {slpd: {running: false, policy: "off"}}. Every host has slpd (running, "on") by default. */
  services?: Record<string, { running?: boolean; policy?: "on" | "off" | "automatic" | string }>;
  /** Firewall rulesets on/off, e.g. {CIMSLP: false} (config.firewall and HostFirewallSystem). */
  firewall?: Record<string, boolean>;
  /** The host's configIssue list (EventEx items); [] clears it. */
  configIssues?: { eventTypeId: string; message?: string; severity?: string }[];
  connectionState?: "connected" | "disconnected" | "notResponding";
  inMaintenanceMode?: boolean;
}

export interface VmSpec {
  /** runtime.featureRequirement as key → value, e.g. {"cpuid.mdclear": "Bool:Min:1"}. */
  featureRequirement?: Record<string, string>;
}

export interface ClusterSpec {
  currentEVCModeKey?: string;
}

export interface PortgroupSpec {
  /** DistributedVirtualPortgroup config.type; every DVPG defaults to "earlyBinding" (static), as in vCenter. */
  type?: "earlyBinding" | "ephemeral" | "lateBinding";
}

/** An injected EventEx (test/vcsim/events.go). host "" = the first (esx: the only) host. */
export interface EventSpec {
  host?: string;
  vm?: string;
  eventTypeId: string;
  message?: string;
  severity?: "error" | "warning" | "info" | "user";
}

/** A datastore directory shared between simulator processes (test/vcsim/datastore.go). */
export interface SharedDatastore {
  /** Absolute or relative directory; created if missing, never deleted. */
  dir: string;
  /** Datastore name, default "shared-ds". */
  name?: string;
  /** Volume uuid shown in summary.url ds:///vmfs/volumes/<uuid>/ (default derived from dir): a "resignatured" copy. */
  uuid?: string;
}

export type AgentState = "running" | "stopped" | "unavailable" | "hung";

export interface VcsimOptions {
  /** "vpx" (vCenter inventory, default) or "esx" (one standalone host, ha-* morefs). */
  mode?: "vpx" | "esx";
  /** The only login the simulator accepts (default "user"/"pass"); anything else gets InvalidLogin. */
  username?: string;
  password?: string;
  /** Plain http instead of HTTPS with a fresh self-signed certificate. */
  tls?: boolean;
  /** Listen address, default 127.0.0.1:0. */
  listen?: string;
  /**
   * Raw extra flags for the program, e.g. ["-cluster", "2", "-host", "2", "-vm", "1"].
   * Model flags: -dc -cluster -host -standalone-host -vm -pool -folder -ds -pg -app -pod -autostart=false.
   * Server flags: -tls-cert FILE -tls-key FILE (load, or create and keep: stable thumbprint across restarts),
   * -cert-out FILE, -trace. See test/vcsim/main.go for the full list.
   */
  args?: string[];
  /** Extra environment for the process. */
  env?: Record<string, string>;

  // ---- phase-2 extensions (see the Go files named) ----
  /** hostspec.go: per-host specs keyed by host name ("*" = every host, applied first; esx mode: "" = the host). */
  hosts?: Record<string, HostSpec>;
  /** hostspec.go: per-VM specs keyed by VM name. */
  vms?: Record<string, VmSpec>;
  /** hostspec.go: per-cluster specs keyed by cluster name. */
  clusters?: Record<string, ClusterSpec>;
  /** hostspec.go: per-DVPG specs keyed by portgroup name (vpx), e.g. {DC0_DVPG0: {type: "ephemeral"}}. */
  portgroups?: Record<string, PortgroupSpec>;
  /** hostspec.go: vCenter about.version/build (vpx mode). Stock: 6.5.0 / 5973321. */
  vcVersion?: string;
  vcBuild?: string;
  /** hostspec.go: every host's product version/build (esx mode: also about). Stock: 6.5.0 / 5969303. */
  hostVersion?: string;
  hostBuild?: string;
  /** hostspec.go, esx mode: the host's name, and its uuid (default derived from hostName, else random per process). */
  hostName?: string;
  hostUuid?: string;
  /** events.go: EventEx records posted at startup. */
  events?: EventSpec[];
  /** datastore.go: shared datastore directories, mounted on every host of this process. */
  datastores?: SharedDatastore[];
  /** vmlock.go: seconds without heartbeat after which a vmx lock is stale (default 10). */
  lockTtlSeconds?: number;
  /** sharedvm.go: when PowerOnVM_Task raises msg.uuid.altered (default "host": the VM was created/last run by another host). */
  uuidQuestion?: "host" | "path" | "never";
  /** state.go: persisted inventory file; a restarted process re-registers those VMs, powered off. */
  statePath?: string;
  /** state.go: "NAME[@DATASTORE][:on]" VMs made (or registered) on the shared datastore at startup. */
  sharedVms?: string[];
  /** control.go: open the control socket (default true). */
  control?: boolean;
  /** main.go: keep the TLS key pair in these files (created on first start): a restarted host keeps its thumbprint. */
  tlsCertPath?: string;
  tlsKeyPath?: string;
}

export interface Vcsim {
  /** e.g. https://127.0.0.1:PORT/sdk */
  url: string;
  username: string;
  password: string;
  /** "AA:BB:…" uppercase, colon-separated; empty with tls=false. */
  thumbprintSha256: string;
  thumbprintSha1: string;
  /** The served certificate (self-signed, so also its own CA), PEM. */
  certPem?: string;
  mode: "vpx" | "esx";
  /** The control socket path (unless started with control: false). */
  controlPath?: string;
  pid: number;
  proc: Subprocess<"pipe", "pipe", "pipe">;
  /** The options it was started with (start another process with them to "reboot" the host). */
  options: VcsimOptions;
  /**
   * Sends one control command (test/vcsim/control.go); resolves with the reply, rejects on {ok: false} or after 5 s.
   *  {cmd: "ping"} · {cmd: "agent", state: AgentState}
   *  {cmd: "event", host?, vm?, eventTypeId, message?, severity?}          (an EventEx, also pushed to matching collectors)
   *  {cmd: "host", host: NAME ("" = first/only), spec: HostSpec} · {cmd: "vm", vm: NAME, spec: VmSpec}
   *  {cmd: "cluster", cluster: NAME, spec: ClusterSpec} · {cmd: "portgroup", portgroup: NAME, spec: PortgroupSpec}
   *  {cmd: "about", version?, build?}                                      (the endpoint's ServiceContent.about)
   *  {cmd: "vms"} → {vms: [{moref, name, path, powerState, uuid, question?, lock?}]}
   *  {cmd: "lock", path: "[shared-ds] vcsa/vcsa.vmx"} → {lock: {locked, stale, mine, host, pid, ageMs}}
   */
  control(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The host agent: "stopped" refuses connections, "unavailable" answers 503, "hung" never answers; VMs and locks live on. */
  agent(state: AgentState): Promise<void>;
  /** The last stderr lines of the process, for failure messages. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

let building: Promise<void> | undefined;

/** Runs scripts/build-vcsim.sh once per process. */
export function buildVcsim(): Promise<void> {
  building ??= runBuild();
  return building;
}

async function runBuild(): Promise<void> {
  const proc = Bun.spawn(["bash", buildScript], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), BUILD_TIMEOUT_MS);
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`scripts/build-vcsim.sh failed (exit ${code}):\n${out}${err}`);
  }
}

/** Running processes and their scratch dirs, killed and removed if the test process exits without stop(). */
const live = new Map<Subprocess, string>();
process.on("exit", () => {
  for (const [p, scratch] of live) {
    p.kill("SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  }
});

interface ReadyLine {
  url: string;
  thumbprint_sha256?: string;
  thumbprint_sha1?: string;
  cert_pem?: string;
  mode: "vpx" | "esx";
  pid: number;
  control?: string;
}

/** The simulators one test file starts, stopped together from its afterAll. */
export class VcsimSet {
  private readonly started: Vcsim[] = [];

  async start(opts: VcsimOptions = {}): Promise<Vcsim> {
    const vc = await startVcsim(opts);
    this.started.push(vc);
    return vc;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((v) => v.stop()));
  }
}

/** Starts a simulator process and resolves once it listens (bounded: 30 s). */
export async function startVcsim(opts: VcsimOptions = {}): Promise<Vcsim> {
  await buildVcsim();
  const mode = opts.mode ?? "vpx";
  const username = opts.username ?? "user";
  const password = opts.password ?? "pass";
  const argv = [vcsimBinary, "-mode", mode, "-username", username, "-password", password, "-exit-on-stdin-eof", "-die-with-parent"];
  if (opts.tls === false) argv.push("-tls=false");
  if (opts.listen) argv.push("-listen", opts.listen);
  argv.push(...extensionArgs(opts));
  argv.push(...(opts.args ?? []));

  // The process's own temp dir: the model's LocalDS_0 directories and the control socket live there,
  // and stop() removes it even after a SIGKILL left them behind.
  const scratch = mkdtempSync(join(tmpdir(), "vcsim-"));
  const proc = Bun.spawn(argv, {
    cwd: root,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TMPDIR: scratch, ...opts.env },
  });
  live.set(proc, scratch);

  const stderrLines: string[] = [];
  void collectLines(proc.stderr, (line) => {
    stderrLines.push(line);
    if (stderrLines.length > 200) stderrLines.shift();
  });
  const logTail = () => stderrLines.slice(-40).join("\n");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGCONT"); // a SIGSTOPped process cannot act on SIGTERM
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await proc.exited;
        clearTimeout(timer);
      }
      try {
        proc.stdin.end();
      } catch {
        // already closed
      }
      rmSync(scratch, { recursive: true, force: true });
      live.delete(proc);
    })();
    return stopping;
  };

  let ready: ReadyLine;
  try {
    ready = await waitForReadyLine(proc, READY_TIMEOUT_MS);
  } catch (e) {
    await stop();
    throw new Error(`vcsim ${argv.slice(1).join(" ").replace(password, "***")}: ${(e as Error).message}\n${logTail()}`);
  }

  const controlPath = ready.control;
  const control = (cmd: Record<string, unknown>) => {
    if (!controlPath) return Promise.reject(new Error("vcsim was started with control: false"));
    return sendControl(controlPath, cmd);
  };
  return {
    url: ready.url,
    username,
    password,
    thumbprintSha256: ready.thumbprint_sha256 ?? "",
    thumbprintSha1: ready.thumbprint_sha1 ?? "",
    certPem: ready.cert_pem,
    mode: ready.mode,
    controlPath,
    pid: ready.pid,
    proc,
    options: opts,
    control,
    agent: async (state) => {
      await control({ cmd: "agent", state });
    },
    logTail,
    stop,
  };
}

function extensionArgs(o: VcsimOptions): string[] {
  const a: string[] = [];
  const json = (flag: string, v: unknown) => v !== undefined && a.push(flag, JSON.stringify(v));
  const str = (flag: string, v: string | number | undefined) => v !== undefined && a.push(flag, String(v));
  json("-hosts", o.hosts);
  json("-vms", o.vms);
  json("-clusters", o.clusters);
  json("-portgroups", o.portgroups);
  json("-events", o.events);
  str("-vc-version", o.vcVersion);
  str("-vc-build", o.vcBuild);
  str("-host-version", o.hostVersion);
  str("-host-build", o.hostBuild);
  str("-host-name", o.hostName);
  str("-host-uuid", o.hostUuid);
  for (const ds of o.datastores ?? []) {
    a.push("-datastore-dir", ds.name ? `${ds.name}=${ds.dir}` : ds.dir);
    if (ds.uuid) a.push("-datastore-uuid", `${ds.name ?? "shared-ds"}=${ds.uuid}`);
  }
  str("-lock-ttl", o.lockTtlSeconds);
  str("-uuid-question", o.uuidQuestion);
  str("-state", o.statePath);
  for (const vm of o.sharedVms ?? []) a.push("-shared-vm", vm);
  if (o.control !== false) a.push("-control", "auto");
  str("-tls-cert", o.tlsCertPath);
  str("-tls-key", o.tlsKeyPath);
  return a;
}

const CONTROL_TIMEOUT_MS = 5_000;

function sendControl(path: string, cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolveReply, reject) => {
    const sock = createConnection({ path });
    let buffered = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`vcsim control ${String(cmd.cmd)}: no reply within ${CONTROL_TIMEOUT_MS} ms`));
    }, CONTROL_TIMEOUT_MS);
    sock.on("connect", () => sock.write(`${JSON.stringify(cmd)}\n`));
    sock.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      if (reply.ok === true) resolveReply(reply);
      else reject(new Error(`vcsim control ${String(cmd.cmd)}: ${String(reply.error)}`));
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`vcsim control ${String(cmd.cmd)}: ${e.message}`));
    });
  });
}

async function waitForReadyLine(proc: Subprocess<"pipe", "pipe", "pipe">, timeoutMs: number): Promise<ReadyLine> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
  });
  const line = new Promise<ReadyLine>((resolveLine, reject) => {
    let found = false;
    void collectLines(proc.stdout, (text) => {
      if (found || !text.startsWith("{")) return;
      try {
        const parsed = JSON.parse(text) as ReadyLine;
        if (typeof parsed.url === "string") {
          found = true;
          resolveLine(parsed);
        }
      } catch {
        // not our line
      }
    }).then(() => {
      if (!found) reject(new Error(`exited (code ${proc.exitCode ?? proc.signalCode}) before it was ready`));
    });
  });
  try {
    return await Promise.race([line, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function collectLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
  } catch {
    // stream closed by kill
  }
  if (buffered) onLine(buffered);
}
