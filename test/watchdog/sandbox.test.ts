// The compiled `esxkit serve` under the systemd unit's own sandbox (capabilities, NoNewPrivileges
// and user read from packaging/esxkit.service, applied with setpriv), in a network namespace of
// the test's own, watching a simulated two-host cluster there. Isolation addresses are bare IPs
// (ICMP, the documented form): 127.0.0.1 answers, 192.0.2.1 is a gateway whose echo requests
// vanish. If the unit stops granting what the ICMP probe needs, these tests fail.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Cluster, startCluster } from "../support/watchdog/cluster.ts";
import { clusterConfigToml, clusterEnv } from "../support/watchdog/config-file.ts";
import { copies, waitFor } from "../support/watchdog/harness.ts";
import { ESXKIT, Netns, readUnitSandbox, setprivArgs, type UnitSandbox } from "../support/watchdog/sandbox.ts";

const root = join(import.meta.dir, "../..");
const DEAD_GATEWAY = "192.0.2.1";
const unit = readUnitSandbox();

beforeAll(() => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`npm run build failed: ${build.stderr.toString()}`);
});

interface Served {
  dir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  log(): string;
  journal(): Record<string, unknown>[];
  watchdog(): Promise<Record<string, unknown> | undefined>;
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function pump(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
  const dec = new TextDecoder();
  try {
    for await (const chunk of stream) sink(dec.decode(chunk, { stream: true }));
  } catch {
    // closed
  }
}

/** A directory the service user owns, with the config (readable by it) and an empty state dir. */
function serviceDir(sb: UnitSandbox): string {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-sandbox-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  for (const d of ["state", "run"]) {
    mkdirSync(join(dir, d));
    chownSync(join(dir, d), sb.uid, sb.gid);
  }
  return dir;
}

const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...clusterEnv };
/** Test speeds (timing is never asserted); everything else at its default. */
const FAST = { name: "mgmt", probe_interval_ms: 500, probe_timeout_ms: 400, successes_to_recover: 2, fence_timeout_s: 20, lock_retry_s: 30 };

async function serve(ns: Netns, c: Cluster, isolation: string[], sb: UnitSandbox = unit): Promise<Served> {
  const dir = serviceDir(sb);
  writeFileSync(join(dir, "config.toml"), clusterConfigToml(c, dir, { ...FAST, isolation_addresses: isolation }, { log_level: "debug" }), { mode: 0o644 });
  const proc = Bun.spawn([...ns.wrap, ...setprivArgs(sb), ESXKIT, "serve", "-c", join(dir, "config.toml")], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let log = "";
  void pump(proc.stdout, (s) => (log += s));
  void pump(proc.stderr, (s) => (log += s));
  cleanups.push(async () => {
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 8000);
    await proc.exited;
    clearTimeout(t);
  });
  const journalFile = join(dir, "state/watchdog/audit.jsonl");
  return {
    dir,
    proc,
    log: () => log,
    journal: () => {
      try {
        return readFileSync(journalFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    async watchdog() {
      const p = Bun.spawnSync([ESXKIT, "status", "--socket", join(dir, "run/control.sock"), "--json"], { env, stdout: "pipe", stderr: "pipe" });
      if (p.exitCode !== 0) return undefined;
      const s = JSON.parse(p.stdout.toString()) as { services: Array<Record<string, unknown>> };
      return s.services.find((x) => x.kind === "watchdog");
    },
  };
}

async function setup(isolation: string[]): Promise<{ ns: Netns; c: Cluster; s: Served }> {
  const ns = await Netns.create();
  cleanups.push(() => ns.stop());
  const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2, wrap: ns.wrap });
  cleanups.push(() => c.stop());
  const s = await serve(ns, c, isolation);
  await waitFor(async () => {
    const w = await s.watchdog();
    return w?.state === "healthy" && w.host === "esx01";
  }, "the sandboxed watchdog to learn the VM on esx01", 40_000, () => s.log().slice(-3000));
  return { ns, c, s };
}

const transitions = (s: Served, to: string) => s.journal().filter((r) => r.to === to);

describe("esxkit serve under packaging/esxkit.service's sandbox", () => {
  test("the unit is what this test emulates: a non-root user, NoNewPrivileges, AF_INET allowed", () => {
    expect(unit.uid).not.toBe(0);
    expect(unit.noNewPrivileges).toBe(true);
    expect(unit.addressFamilies).toContain("AF_INET");
  });

  test("a dead host is failed over, with bare-IP isolation addresses probed by ICMP", async () => {
    const { c, s } = await setup(["127.0.0.1", DEAD_GATEWAY]);
    expect(s.journal().find((r) => r.kind === "started")?.icmp_socket).toBeDefined();
    c.host("esx01").crash();
    await waitFor(async () => (await copies(c, "esx02")).some((v) => v.powerState === "poweredOn"), "the VM powered on on esx02", 60_000, () => s.log().slice(-3000));
    expect(c.host("esx01").count("power_off")).toBe(1);
    expect(transitions(s, "isolated")).toHaveLength(0);
  });

  test("the ICMP probe really answers under the sandbox: with esx02 silent, 127.0.0.1 alone proves esxkit is not isolated", async () => {
    const { c, s } = await setup(["127.0.0.1"]);
    c.host("esx02").hang();
    cleanups.push(() => c.host("esx02").unhang());
    c.host("esx01").crash();
    await waitFor(() => transitions(s, "fencing").length > 0, "the fence to start", 40_000, () => s.log().slice(-3000));
    // Not isolated, so the watchdog goes on to fence (and then finds no host to take the VM).
    expect(transitions(s, "isolated")).toHaveLength(0);
    expect(String(transitions(s, "fencing")[0]?.message)).not.toContain("failed");
  });

  test("a gateway-only outage (isolation address dead, esx02 answers) fails over, and says so", async () => {
    const { c, s } = await setup([DEAD_GATEWAY]);
    c.host("esx01").crash();
    await waitFor(async () => (await copies(c, "esx02")).some((v) => v.powerState === "poweredOn"), "the VM powered on on esx02", 60_000, () => s.log().slice(-3000));
    expect(transitions(s, "isolated")).toHaveLength(0);
    expect(String(transitions(s, "fencing")[0]?.message)).toContain(`isolation address ${DEAD_GATEWAY} (no echo reply) failed, but esx02 answers`);
  });

  test("full isolation (the gateway dead and esx02 silent) does nothing, and the alert names both", async () => {
    const { c, s } = await setup([DEAD_GATEWAY]);
    c.host("esx02").hang();
    cleanups.push(() => c.host("esx02").unhang());
    c.host("esx01").crash();
    await waitFor(() => transitions(s, "isolated").length > 0, "the isolation guard", 40_000, () => s.log().slice(-3000));
    await Bun.sleep(3000); // six more probe rounds
    expect((await s.watchdog())?.state).toBe("isolated");
    c.host("esx02").unhang(); // its simulator answers the test's inventory query again
    expect(c.host("esx01").count("power_off")).toBe(0);
    expect(await copies(c, "esx02")).toHaveLength(0);
    const alert = String(transitions(s, "isolated")[0]?.message);
    expect(alert).toContain(`${DEAD_GATEWAY} (no echo reply)`);
    expect(alert).toContain("esx02 did not answer");
  });

  test("without CAP_NET_RAW (and ping_group_range excluding the user), the watchdog refuses to start and says why", async () => {
    const ns = await Netns.create();
    cleanups.push(() => ns.stop());
    const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2, wrap: ns.wrap });
    cleanups.push(() => c.stop());
    const weaker = { ...unit, bounding: unit.bounding.filter((x) => x !== "net_raw"), ambient: unit.ambient.filter((x) => x !== "net_raw") };
    const s = await serve(ns, c, ["127.0.0.1"], weaker);
    const code = await s.proc.exited;
    // The watchdog is the only service: nothing could start, so serve exits non-zero.
    expect(code).not.toBe(0);
    expect(s.log()).toContain('isolation_addresses: "127.0.0.1" cannot be probed: cannot open an ICMP socket');
    expect(s.log()).toContain("no CAP_NET_RAW");
    expect(s.journal().filter((r) => r.kind === "alert")).toHaveLength(0);
  });
});
