// The VM's host fails (crash, hang); the watchdog fences it through its fake physical BMC and
// restarts the VM host-direct on the best candidate. Several ESX-mode simulator processes share
// one datastore directory; each sits behind a pyghmi BMC whose power off kills it.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { EndpointConfig, EsxiConfig } from "../../src/config/types.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { queryEvents } from "../../src/vsphere/events.ts";
import { statePath } from "../../src/watchdog/persist.ts";
import { startVcsim } from "../support/vcsim.ts";
import { type ClusterOptions, type Cluster, freePort, startBlackhole, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { copies, removeStateDir, type Running, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const clusters: Cluster[] = [];
const vcStops: Array<() => Promise<void>> = [];
const running: Running[] = [];

afterEach(async () => {
  for (const w of running.splice(0)) {
    await w.stop();
    removeStateDir(w.stateDir);
  }
  for (const c of clusters.splice(0)) await c.stop();
  for (const stop of vcStops.splice(0)) await stop();
});

async function withClient<T>(e: EndpointConfig | EsxiConfig, fn: (c: VimClient) => Promise<T>): Promise<T> {
  const { bmc: _bmc, ...endpoint } = e as EsxiConfig;
  const client = await VimClient.connect(endpoint);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function cluster(opts: ClusterOptions): Promise<Cluster> {
  const c = await startCluster(opts);
  clusters.push(c);
  return c;
}

async function watchdog(c: Cluster, hosts: string[], patch: Parameters<typeof testConfig>[1] = {}): Promise<Running> {
  const w = await runWatchdog(c, testConfig(hosts, patch));
  running.push(w);
  await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the watchdog to learn the VM on esx01", 30_000, () => w.tail());
  return w;
}

async function failedOverTo(c: Cluster, w: Running, host: string): Promise<void> {
  await waitFor(async () => (await copies(c, host)).some((v) => v.powerState === "poweredOn"), `the VM powered on on ${host}`, 45_000, () => w.tail());
  await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === host, `the watchdog to report the VM on ${host}`, 20_000, () => w.tail());
}

describe("the VM's host fails", () => {
  test("while the gateway (isolation address) is dead too: another host answers, so esxkit is not isolated and fails over", async () => {
    const blackhole = await startBlackhole();
    vcStops.push(blackhole.stop);
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2 });
    const w = await watchdog(c, ["esx01", "esx02"], { isolation_addresses: [blackhole.address] });

    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");
    expect(w.journal().some((r) => r.to === "isolated")).toBe(false);
    const fencing = w.journal().find((r) => r.to === "fencing");
    expect(String(fencing?.message)).toContain(`isolation address ${blackhole.address} (timeout) failed, but esx02 answers`);
  });

  test("crash (SIGKILL): fenced, the VM restarts elsewhere once, with the same identity", async () => {
    // esx02 names the shared datastore differently (same URL): the vmx path is rewritten.
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02", datastore: "shared-two" }], lockTtlS: 2 });
    const before = (await copies(c, "esx01"))[0];
    expect(before?.powerState).toBe("poweredOn");
    const w = await watchdog(c, ["esx01", "esx02"]);

    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");

    const after = await copies(c, "esx02");
    expect(after).toHaveLength(1);
    expect(after[0]?.path).toBe("[shared-two] vcsa/vcsa.vmx");
    expect(after[0]?.uuid).toBe(before?.uuid as string); // "I moved it" keeps the BIOS uuid
    expect(c.host("esx01").count("power_off")).toBe(1);
    expect(await c.host("esx01").ipmitool("chassis", "power", "status")).toBe("Chassis Power is off");
    const kinds = w.kinds();
    for (const k of ["fence_started", "fenced", "target_chosen", "registered", "question_answered", "failover_succeeded"]) expect(kinds).toContain(k);
    expect(kinds.filter((k) => k === "failover_succeeded")).toHaveLength(1);
    expect(w.journal().find((r) => r.kind === "failover_succeeded")).toMatchObject({ uuid: before?.uuid, uuid_kept: true });
    expect(w.journal().find((r) => r.kind === "target_chosen")).toMatchObject({ severity: "info", missing_networks: [] });
    expect(kinds).not.toContain("identity_changed");
    expect(w.journal().find((r) => r.kind === "question_answered")?.question).toEqual(["msg.uuid.altered"]);
    expect(w.metrics.render()).toContain('esxkit_watchdog_transitions_total{from="failing_over",to="healthy",watchdog="mgmt"} 1');
    expect(w.metrics.render()).toContain('esxkit_watchdog_state{state="healthy",watchdog="mgmt"} 1');
  });

  test("hang (SIGSTOP): the API is gone and the BMC still says on; fenced, then the VM restarts once the lock is stale", async () => {
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 3 });
    const w = await watchdog(c, ["esx01", "esx02"]);

    c.host("esx01").hang();
    await failedOverTo(c, w, "esx02");

    expect(c.host("esx01").count("power_off")).toBe(1); // the BMC killed the stopped process
    expect(await copies(c, "esx02")).toHaveLength(1);
    expect(w.kinds()).toContain("fenced");
    expect(w.journal().find((r) => r.kind === "fenced")?.already_off).toBe(false);
  });

  test("a candidate without the datastore is skipped, though it comes first (and one in maintenance mode too)", async () => {
    const c = await cluster({
      hosts: [{ name: "esx01", runsVm: true }, { name: "nods", datastore: false }, { name: "maint", args: ["-hosts", JSON.stringify({ "*": { inMaintenanceMode: true } })] }, { name: "esx02" }],
      lockTtlS: 2,
    });
    const w = await watchdog(c, ["esx01", "nods", "maint", "esx02"]);

    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");

    expect(await copies(c, "nods")).toHaveLength(0);
    expect(await copies(c, "maint")).toHaveLength(0);
    const chosen = w.journal().find((r) => r.kind === "target_chosen");
    expect(chosen?.target).toBe("esx02");
    expect(chosen?.rejected).toEqual([
      { host: "nods", reason: expect.stringContaining("does not mount the datastore") },
      { host: "maint", reason: "it is in maintenance mode" },
    ]);
  });

  test("the fenced host returns: its stale powered-off copy is unregistered, the files stay", async () => {
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2 });
    const w = await watchdog(c, ["esx01", "esx02"]);
    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");
    expect(w.service.status().staleCopies).toEqual(["esx01"]);

    const esx01 = c.host("esx01");
    const restarted = esx01.waitEvent((e) => e.event === "host_started", "esx01 restarted");
    await esx01.ipmitool("chassis", "power", "on");
    await restarted;

    await waitFor(() => w.service.status().staleCopies.length === 0, "the stale copy to be handled", 30_000, () => w.tail());
    expect(await copies(c, "esx01")).toHaveLength(0);
    expect(w.kinds()).toContain("stale_unregistered");
    // UnregisterVM, not Destroy_Task: the VM still runs from its files on esx02.
    expect((await copies(c, "esx02"))[0]?.powerState).toBe("poweredOn");
    expect(await Bun.file(`${c.datastoreDir}/vcsa/vcsa.vmx`).exists()).toBe(true);
    expect(w.service.status().state).toBe("healthy");
  });

  test("a second failure inside the cooldown is held, not failed over", async () => {
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }, { name: "esx03" }], lockTtlS: 2 });
    const w = await watchdog(c, ["esx01", "esx02", "esx03"]);
    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");

    c.host("esx02").crash();
    await waitFor(() => w.service.status().held === "cooldown", "the watchdog to hold the second failover", 30_000, () => w.tail());
    expect(c.host("esx02").count("power_off")).toBe(0);
    expect(await copies(c, "esx03")).toHaveLength(0);
    expect(w.journal().find((r) => r.kind === "alert" && r.held === "cooldown")?.severity).toBe("warning");
  });

  test("the failover event is posted to the new host at once, and to vCenter once it is back", async () => {
    const c = await cluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2 });
    // vCenter (often the protected VM itself) is down during the failover: its port answers nothing yet.
    const vcPort = await freePort();
    const vcenter: EndpointConfig = { name: "vc", url: `https://127.0.0.1:${vcPort}/sdk`, username: "user", password: "pass", tls: { mode: "insecure" }, timeout_ms: 3000 };
    const w = await runWatchdog(c, testConfig(["esx01", "esx02"]), { deps: { vcenter } });
    running.push(w);
    await waitFor(() => w.service.status().state === "healthy", "healthy", 30_000, () => w.tail());
    c.host("esx01").crash();
    await failedOverTo(c, w, "esx02");

    const onHost = await withClient(c.host("esx02").esxi(), (client) => queryEvents(client, { maxCount: 200 }));
    expect(onHost.some((e) => e.eventTypeId === "com.esxkit.watchdog.failover" && e.vm?.name === VM_NAME)).toBe(true);
    const persisted = JSON.parse(readFileSync(statePath(w.stateDir, "mgmt"), "utf8")) as { pendingEvents: unknown[] };
    expect(persisted.pendingEvents).toHaveLength(1);

    const vc = await startVcsim({ mode: "vpx", listen: `127.0.0.1:${vcPort}` });
    vcStops.push(vc.stop);
    await waitFor(() => w.service.status().rounds > 0 && (JSON.parse(readFileSync(statePath(w.stateDir, "mgmt"), "utf8")) as { pendingEvents: unknown[] }).pendingEvents.length === 0, "the queued event to reach vCenter", 30_000, () => w.tail());
    const onVc = await withClient(vcenter, (client) => queryEvents(client, { maxCount: 200 }));
    expect(onVc.some((e) => e.eventTypeId === "com.esxkit.watchdog.failover" && e.fullFormattedMessage?.includes("after fencing esx01"))).toBe(true);
  });
});
