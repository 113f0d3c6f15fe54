// The host agent dies while the VM lives on (its vmx lock stays fresh), and esxkit itself dies
// in the middle of a failover.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { VimClient } from "../../src/vsphere/client.ts";
import { queryEvents } from "../../src/vsphere/events.ts";
import { journalPath, readJournal } from "../../src/watchdog/journal.ts";
import { statePath } from "../../src/watchdog/persist.ts";
import { type Cluster, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { copies, makeStateDir, removeStateDir, type Running, rounds, runWatchdog, testConfig, VmEndpoint, waitFor } from "../support/watchdog/harness.ts";

const clusters: Cluster[] = [];
const running: Running[] = [];
const children: Subprocess[] = [];
const dirs: string[] = [];
const endpoints: VmEndpoint[] = [];

afterEach(async () => {
  for (const p of children.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
  for (const w of running.splice(0)) {
    await w.stop();
    removeStateDir(w.stateDir);
  }
  for (const e of endpoints.splice(0)) e.down();
  for (const c of clusters.splice(0)) await c.stop();
  for (const d of dirs.splice(0)) removeStateDir(d);
});

describe("host agent dead, VM alive", () => {
  test("no failover while the VM answers; once it stops: fence, wait for the lock, power on", async () => {
    // A long lock TTL: after the fence the old host's lock stays fresh for a while.
    const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 6 });
    clusters.push(c);
    const vm = await VmEndpoint.start();
    endpoints.push(vm);
    const w = await runWatchdog(c, testConfig(["esx01", "esx02"], { vm_probe: vm.address, lock_retry_s: 60 }));
    running.push(w);
    await waitFor(() => w.service.status().state === "healthy", "healthy", 30_000, () => w.tail());

    await c.host("esx01").setAgent("stopped");
    await waitFor(() => w.service.status().state === "agent_down", "the agent-down alert", 30_000, () => w.tail());
    await rounds(w, 5);
    expect(w.service.status().state).toBe("agent_down");
    expect(c.host("esx01").count("power_off")).toBe(0);
    expect((await copies(c, "esx01"))[0]?.powerState).toBe("poweredOn");
    expect(w.journal().find((r) => r.to === "agent_down")?.kind).toBe("alert");

    vm.down();
    await waitFor(() => w.kinds().includes("vmx_locked"), "the power-on to meet the old host's lock", 60_000, () => w.tail());
    // The lock file is still there, naming the old host: esxkit waits for it to go stale, it
    // never deletes it (the simulator reads the lock record on the shared datastore).
    const lock = async () => (await c.host("esx02").control({ cmd: "lock", path: "[shared-ds] vcsa/vcsa.vmx" })).lock as Record<string, unknown>;
    expect((await lock()).host).toBe("esx01");
    await waitFor(async () => (await copies(c, "esx02")).some((v) => v.powerState === "poweredOn"), "the VM on esx02", 60_000, () => w.tail());
    expect(await lock()).toMatchObject({ locked: true, host: "esx02" }); // taken over once stale
    expect(c.host("esx01").count("power_off")).toBe(1);
    const kinds = w.kinds();
    const fenced = kinds.indexOf("fenced");
    expect(fenced).toBeGreaterThan(-1);
    // The live process held the vmx lock until the fence killed it: the power-on waited for it.
    expect(kinds.indexOf("vmx_locked")).toBeGreaterThan(fenced);
    await waitFor(() => w.service.status().host === "esx02", "the watchdog to follow the VM", 20_000, () => w.tail());
  });
});

describe("esxkit restarted mid-failover", () => {
  const runner = resolve(import.meta.dir, "../support/watchdog/run-watchdog.ts");
  const bun = process.execPath;

  function spawnWatchdog(specFile: string, log: string[]): Subprocess<"ignore", "pipe", "pipe"> {
    const p = Bun.spawn([bun, runner, specFile], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    children.push(p);
    void (async () => {
      for await (const chunk of p.stdout) log.push(new TextDecoder().decode(chunk));
    })();
    void (async () => {
      for await (const chunk of p.stderr) log.push(new TextDecoder().decode(chunk));
    })();
    return p;
  }

  test("SIGKILLed while waiting for the lock, the next esxkit resumes and powers the VM on exactly once", async () => {
    const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 6 });
    clusters.push(c);
    const stateDir = makeStateDir();
    dirs.push(stateDir);
    const journal = () => readJournal(journalPath(stateDir));
    const kinds = () => journal().map((r) => String(r.kind));
    const specFile = join(stateDir, "spec.json");
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(specFile, JSON.stringify({ cfg: testConfig(["esx01", "esx02"], { lock_retry_s: 60 }), esxi: c.esxi(), stateDir }));
    const log: string[] = [];
    const tail = () => log.join("").split("\n").slice(-30).join("\n");

    const first = spawnWatchdog(specFile, log);
    await waitFor(() => journal().some((r) => r.to === "healthy"), "the first esxkit to learn the VM", 30_000, tail);
    // The agent dies, the VM keeps its lock fresh until the fence kills the host.
    await c.host("esx01").setAgent("stopped");
    await waitFor(() => kinds().includes("vmx_locked"), "the first esxkit to wait for the lock", 40_000, tail);
    first.kill("SIGKILL");
    await first.exited;

    const persisted = JSON.parse(readFileSync(statePath(stateDir, "mgmt"), "utf8")) as { failover?: { phase: string; target: string } };
    expect(persisted.failover).toMatchObject({ phase: "powering_on", target: "esx02" });
    expect((await copies(c, "esx02"))[0]?.powerState).toBe("poweredOff");

    spawnWatchdog(specFile, log);
    await waitFor(() => kinds().includes("failover_succeeded"), "the second esxkit to finish the failover", 60_000, tail);

    const onEsx02 = await copies(c, "esx02");
    expect(onEsx02).toHaveLength(1); // registered once, reused after the restart
    expect(onEsx02[0]?.powerState).toBe("poweredOn");
    expect(kinds().filter((k) => k === "registered")).toHaveLength(1);
    expect(kinds().filter((k) => k === "fenced")).toHaveLength(1);
    expect(c.host("esx01").count("power_off")).toBe(1);
    // The host's own event log: exactly one power-on of the VM.
    const { bmc: _bmc, ...endpoint } = c.host("esx02").esxi();
    const client = await VimClient.connect(endpoint);
    try {
      const events = await queryEvents(client, { maxCount: 200 });
      // (the simulator's collector ignores the type filter in esx mode: filter here too)
      expect(events.filter((e) => e.type === "VmPoweredOnEvent" && e.vm?.name === VM_NAME)).toHaveLength(1);
      expect(events.some((e) => e.type === "EventEx" && e.fullFormattedMessage?.startsWith("esxkit restarted vcsa"))).toBe(true);
    } finally {
      await client.close();
    }
  });
});
