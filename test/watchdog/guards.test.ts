// When the watchdog must NOT fail over: BMC unreachable (no confirmed fence), esxkit isolated,
// a flapping host, paused, dry run. Each case checks that nothing was fenced or started, and
// that the reason was recorded.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ClusterOptions, type Cluster, startBlackhole, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import type { WatchdogDeps } from "../../src/watchdog/service.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { findVm } from "../../src/vsphere/search.ts";
import { powerOffVm } from "../../src/vsphere/vm.ts";
import { copies, nothingHappened, removeStateDir, type Running, rounds, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const clusters: Cluster[] = [];
const running: Running[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const w of running.splice(0)) {
    await w.stop();
    removeStateDir(w.stateDir);
  }
  for (const c of clusters.splice(0)) await c.stop();
  for (const f of cleanups.splice(0)) await f();
});

async function setup(opts: Partial<ClusterOptions> = {}, patch: Parameters<typeof testConfig>[1] = {}, hosts = ["esx01", "esx02"], deps: Partial<WatchdogDeps> = {}): Promise<{ c: Cluster; w: Running }> {
  const c = await startCluster({ hosts: hosts.map((name) => ({ name, runsVm: name === "esx01" })), lockTtlS: 2, ...opts });
  clusters.push(c);
  const w = await runWatchdog(c, testConfig(hosts, patch), { deps });
  running.push(w);
  await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the watchdog to learn the VM on esx01", 30_000, () => w.tail());
  return { c, w };
}

describe("no failover", () => {
  test("BMC unreachable: no confirmed fence, so no failover; an alert reaches the log, journal, webhook and command hook", async () => {
    const hooked: unknown[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        hooked.push(await req.json());
        return new Response("ok");
      },
    });
    cleanups.push(() => server.stop(true));
    const dir = join(import.meta.dir, `.tmp-hook-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const hookFile = join(dir, "events.jsonl");
    const { c, w } = await setup({}, { fence_timeout_s: 5, webhook: `http://127.0.0.1:${server.port}/hook?token=secret-token`, command: ["sh", "-c", `cat >> '${hookFile}'; echo >> '${hookFile}'`] });

    c.host("esx01").bmcUnreachable();
    c.host("esx01").crash();
    await waitFor(() => w.service.status().state === "fence_failed", "the fence to fail", 40_000, () => w.tail());
    await rounds(w, 3);
    c.host("esx01").bmcReachable(); // so the cluster can be torn down

    expect(await copies(c, "esx02")).toHaveLength(0);
    expect(w.kinds()).not.toContain("registered");
    const failed = w.journal().find((r) => r.kind === "fence_failed");
    expect(failed?.severity).toBe("error");
    expect(String(failed?.message)).toContain("no confirmed fence");
    await waitFor(() => hooked.some((h) => (h as { kind: string }).kind === "fence_failed"), "the webhook to receive the alert", 10_000);
    await waitFor(() => existsSync(hookFile) && readFileSync(hookFile, "utf8").includes('"kind":"fence_failed"'), "the command hook to receive the alert", 10_000);
    // The webhook URL's token never reaches the log.
    expect(w.logs.join("\n")).not.toContain("secret-token");
  });

  test("esxkit isolated (its isolation address unreachable and no other host answers): no action, and the alert names both", async () => {
    const blackhole = await startBlackhole();
    cleanups.push(blackhole.stop);
    const { c, w } = await setup({}, { isolation_addresses: [blackhole.address] });

    c.host("esx02").hang();
    c.host("esx01").crash();
    await waitFor(() => w.service.status().state === "isolated", "the isolation guard", 30_000, () => w.tail());
    await rounds(w, 5);
    c.host("esx02").unhang();
    expect(w.service.status().state).toBe("isolated");
    await nothingHappened(c, w);
    const alert = w.journal().find((r) => r.kind === "alert" && r.to === "isolated");
    expect(String(alert?.message)).toContain(`${blackhole.address} (timeout)`);
    expect(String(alert?.message)).toContain("esx02 did not answer");
  });

  test("esxkit isolated (no other host answers): no action", async () => {
    const { c, w } = await setup();
    c.host("esx02").hang();
    c.host("esx01").crash();
    await waitFor(() => w.service.status().state === "isolated", "the isolation guard", 30_000, () => w.tail());
    await rounds(w, 5);
    c.host("esx02").unhang();
    expect(c.host("esx01").count("power_off")).toBe(0);
    expect(w.kinds()).not.toContain("fence_started");
  });

  test("a flapping host is never declared down", async () => {
    const { c, w } = await setup({}, { misses_to_fail: 4 });
    const esx01 = c.host("esx01");
    const health = () => w.service.status().hosts.esx01;
    for (let i = 0; i < 5; i++) {
      await esx01.setAgent("stopped");
      await waitFor(() => (health()?.misses ?? 0) >= 1, "a missed probe", 10_000, () => w.tail());
      await esx01.setAgent("running");
      await waitFor(() => (health()?.successes ?? 0) >= 1, "an answered probe", 10_000, () => w.tail());
    }
    await rounds(w, 2);
    expect(health()?.health).toBe("up");
    expect(w.journal().filter((r) => r.to === "suspect").length).toBeGreaterThanOrEqual(5);
    expect(w.service.status().state).toBe("healthy");
    await nothingHappened(c, w);
  });

  test("paused (file, then API with a TTL): no action; after resume the failover happens", async () => {
    const { c, w } = await setup();
    // A pause file dropped by hand pauses every watchdog.
    const globalFile = join(w.stateDir, "watchdog", "pause");
    writeFileSync(globalFile, "");
    await rounds(w, 1);
    expect(w.service.status().paused).toBe(true);
    rmSync(globalFile);
    await rounds(w, 1);
    expect(w.service.status().paused).toBe(false);

    const info = w.service.pause(10 * 60_000, "planned maintenance");
    expect(existsSync(info.file as string)).toBe(true);
    expect(w.service.status().pauseReason).toBe("planned maintenance");
    c.host("esx01").crash();
    await waitFor(() => w.service.status().held === "paused", "the failover to be held by the pause", 30_000, () => w.tail());
    await rounds(w, 5);
    await nothingHappened(c, w);

    w.service.resume();
    expect(existsSync(info.file as string)).toBe(false);
    await waitFor(() => w.service.status().host === "esx02" && w.service.status().state === "healthy", "the failover after resume", 45_000, () => w.tail());
    expect(w.kinds()).toEqual(expect.arrayContaining(["paused", "resumed", "fenced", "failover_succeeded"]));
  });

  test("dry run: every decision is logged, none is acted on", async () => {
    const { c, w } = await setup({}, { dry_run: true });
    c.host("esx01").crash();
    await waitFor(() => w.kinds().includes("dry_run_plan"), "the dry-run plan", 30_000, () => w.tail());
    await rounds(w, 5);
    await nothingHappened(c, w);
    const plan = w.journal().find((r) => r.kind === "dry_run_plan");
    expect(plan?.target).toBe("esx02");
    expect(String(plan?.message)).toContain("would fence esx01");
    expect(w.journal().every((r) => r.dry_run === true)).toBe(true);
    expect(w.service.status().held).toBe("dry_run");
  });

  test("a VM its admin powered off is not restarted (the change is learned through the property watch)", async () => {
    // A refresh timer far beyond the test: only the watch can tell the watchdog about the change.
    const { c, w } = await setup({}, {}, ["esx01", "esx02"], { refreshIntervalMs: 3_600_000 });
    const { bmc: _bmc, ...endpoint } = c.host("esx01").esxi();
    const client = await VimClient.connect(endpoint);
    try {
      await powerOffVm(client, (await findVm(client, { by: "name", value: VM_NAME })).ref);
    } finally {
      await client.close();
    }
    await waitFor(() => w.journal().some((r) => r.kind === "learned" && r.power_state === "poweredOff"), "the watchdog to learn the power-off", 30_000, () => w.tail());
    c.host("esx01").crash();
    await waitFor(() => w.service.status().held === "vm_powered_off", "the watchdog to leave the powered-off VM alone", 30_000, () => w.tail());
    await rounds(w, 3);
    await nothingHappened(c, w);
  });
});
