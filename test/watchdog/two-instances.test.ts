// Two jump hosts run the same [[watchdog]] (their `hosts` lists in different orders) as the
// compiled binary, `dist/esxkit serve`, against three simulated hosts behind pyghmi BMCs. The
// VM's host is crashed 20 times in a row; each time exactly one instance claims the failover,
// the host is fenced once and the VM is powered on exactly once, and the other instance says
// "another instance is failing this VM over" and adopts the result.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { journalPath, readJournal } from "../../src/watchdog/journal.ts";
import { BMC_PASSWORD, BMC_USER, type Cluster, HOST_PASSWORD, HOST_USER, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { waitFor } from "../support/watchdog/harness.ts";

const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");
const ROUNDS = Number(process.env.WD_TWO_ROUNDS ?? 20);
const HOSTS = ["esx01", "esx02", "esx03"];
const dir = mkdtempSync(join(tmpdir(), "esxkit-wd-two-"));
const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", WD_ESX_PW: HOST_PASSWORD, WD_BMC_PW: BMC_PASSWORD };

interface Instance {
  name: string;
  stateDir: string;
  socket: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  log: string[];
}

let cluster: Cluster;
const instances: Instance[] = [];

function config(c: Cluster, stateDir: string, socket: string, order: string[]): string {
  const esxi = HOSTS.map((h) => {
    const e = c.host(h).esxi();
    const b = e.bmc!;
    return `[esxi.${h}]
url = "${e.url}"
username = "${HOST_USER}"
password = "env:WD_ESX_PW"
thumbprint = "${e.tls.mode === "thumbprint" ? e.tls.thumbprint : ""}"
timeout_ms = 3000
bmc = { address = "${b.address}", port = ${b.port}, username = "${BMC_USER}", password = "env:WD_BMC_PW", cipher_suite = 3 }
`;
  });
  return `[daemon]
state_dir = "${stateDir}"
control_socket = "${socket}"
log_level = "debug"

${esxi.join("\n")}
[[watchdog]]
name = "mgmt"
vm = "${VM_NAME}"
hosts = [${order.map((h) => `"${h}"`).join(", ")}]
probe_interval_ms = 500
probe_timeout_ms = 400
misses_to_fail = 3
successes_to_recover = 2
cooldown_s = 0
max_failovers_per_hour = 60
fence_timeout_s = 20
lock_retry_s = 30
claim_ttl_s = 120
`;
}

async function drain(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.push(dec.decode(chunk));
}

function startInstance(name: string, order: string[]): Instance {
  const base = join(dir, name);
  mkdirSync(base, { recursive: true });
  const stateDir = join(base, "state");
  const socket = join(base, "control.sock");
  const file = join(base, "esxkit.toml");
  writeFileSync(file, config(cluster, stateDir, socket, order), { mode: 0o600 });
  const proc = Bun.spawn([binary, "serve", "-c", file, "--log-format", "json"], { env, cwd: base, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const log: string[] = [];
  void drain(proc.stdout, log);
  void drain(proc.stderr, log);
  return { name, stateDir, socket, proc, log };
}

type WatchdogStatus = { state: string; host?: string; held?: string; reason?: string; claim?: { elsewhere?: string } };

function status(i: Instance): WatchdogStatus | undefined {
  const p = Bun.spawnSync([binary, "status", "--socket", i.socket, "--json"], { env, timeout: 5000 });
  if (p.exitCode !== 0) return undefined;
  const s = JSON.parse(p.stdout.toString()) as { services: Array<{ kind: string } & WatchdogStatus> };
  return s.services.find((x) => x.kind === "watchdog");
}

/** A journal record of esxkit itself powering the VM on (not finding it running). */
const poweredOnByEsxkit = (r: Record<string, unknown>) => r.kind === "failover_succeeded" && r.already_running === false;
const journal = (i: Instance) => readJournal(journalPath(i.stateDir));
const tails = () => instances.map((i) => `--- ${i.name}\n${i.log.join("").split("\n").slice(-25).join("\n")}`).join("\n");

/** Where the VM is powered on, across every host that answers. */
async function poweredOn(down?: string): Promise<string[]> {
  const on: string[] = [];
  for (const h of HOSTS) {
    if (h === down || !cluster.host(h).hostPid) continue;
    const vms = await cluster.vms(h).catch(() => []);
    for (const v of vms) if (v.name === VM_NAME && v.powerState === "poweredOn") on.push(h);
  }
  return on;
}

beforeAll(async () => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root });
  if (build.exitCode !== 0) throw new Error(`npm run build failed: ${build.stderr.toString()}`);
  cluster = await startCluster({ hosts: HOSTS.map((name) => ({ name, runsVm: name === "esx01" })), lockTtlS: 2 });
  instances.push(startInstance("jump-a", HOSTS), startInstance("jump-b", [...HOSTS].reverse()));
}, 180_000);

afterAll(async () => {
  for (const i of instances) {
    i.proc.kill("SIGTERM");
    const t = setTimeout(() => i.proc.kill("SIGKILL"), 10_000);
    await i.proc.exited;
    clearTimeout(t);
  }
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("two esxkit instances, one [[watchdog]]", () => {
  test(`${ROUNDS} host crashes in a row: one fence and one power-on each time`, async () => {
    const sawOtherInstance = new Set<string>();
    let vmHost = "esx01";
    const all = (pred: (s: WatchdogStatus) => boolean) => () => instances.every((i) => {
      const s = status(i);
      if (s?.claim?.elsewhere) sawOtherInstance.add(i.name);
      return !!s && pred(s);
    });
    for (let round = 1; round <= ROUNDS; round++) {
      await waitFor(all((s) => s.state === "healthy" && s.host === vmHost), `round ${round}: both instances healthy with the VM on ${vmHost}`, 60_000, tails);
      const offBefore = Object.fromEntries(HOSTS.map((h) => [h, cluster.host(h).count("power_off")]));
      const startsBefore = instances.map((i) => journal(i).filter(poweredOnByEsxkit).length);
      const fencesBefore = instances.map((i) => journal(i).filter((r) => r.kind === "fenced").length);
      cluster.host(vmHost).crash();
      const target = await waitFor(async () => {
        for (const i of instances) if (status(i)?.claim?.elsewhere) sawOtherInstance.add(i.name);
        const on = await poweredOn(vmHost);
        return on.length === 1 ? on[0] : undefined;
      }, `round ${round}: the VM powered on away from ${vmHost}`, 60_000, tails);
      await waitFor(all((s) => s.state === "healthy" && s.host === target), `round ${round}: both instances follow the VM to ${target}`, 60_000, tails);

      // Exactly one fence, of the failed host only; exactly one power-on and one running copy.
      for (const h of HOSTS) expect(cluster.host(h).count("power_off") - offBefore[h]!).toBe(h === vmHost ? 1 : 0);
      const starts = instances.map((i, n) => journal(i).filter(poweredOnByEsxkit).length - startsBefore[n]!);
      const fences = instances.map((i, n) => journal(i).filter((r) => r.kind === "fenced").length - fencesBefore[n]!);
      // Also no second "fence" of a host that is off already, by the instance that lost the claim.
      expect({ round, starts: starts.reduce((a, b) => a + b, 0), fences: fences.reduce((a, b) => a + b, 0) }).toEqual({ round, starts: 1, fences: 1 });
      expect(await poweredOn(vmHost)).toEqual([target]);

      // The fenced host comes back (its stale copy is unregistered) before the next crash.
      const failed = cluster.host(vmHost);
      const started = failed.waitEvent((e) => e.event === "host_started", "host_started", 30_000);
      await failed.ipmitool("chassis", "power", "on");
      await started;
      await waitFor(async () => (await cluster.vms(vmHost)).every((v) => v.name !== VM_NAME), `round ${round}: the stale copy on ${vmHost} to be unregistered`, 30_000, tails);
      vmHost = target;
    }
    const fenced = instances.map((i) => journal(i).filter((r) => r.kind === "fenced").length);
    expect(fenced.reduce((a, b) => a + b, 0)).toBe(ROUNDS);
    const elsewhere = instances.flatMap((i) => journal(i).filter((r) => r.kind === "claimed_elsewhere"));
    expect(elsewhere.length).toBeGreaterThan(0);
    expect(String(elsewhere[0]?.message)).toContain("another instance is failing this VM over");
    expect(sawOtherInstance.size).toBeGreaterThan(0);
    await waitFor(async () => {
      for (const h of HOSTS) {
        const copies = (await cluster.vms(h)).filter((v) => v.name === VM_NAME);
        if (copies.length !== (h === vmHost ? 1 : 0)) return false;
      }
      return true;
    }, "the stale copies to be unregistered", 30_000, tails);
  }, 1_200_000);
});
