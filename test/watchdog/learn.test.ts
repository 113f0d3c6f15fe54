// Learning while healthy: what a later failover needs is read from the hosts and persisted
// (<state_dir>/watchdog/<name>.cache.json), refreshed on a timer, and enough on its own for a
// failover after esxkit restarts with the VM's host already dead.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { EsxiConfig } from "../../src/config/types.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { retrieveOne } from "../../src/vsphere/properties.ts";
import { findVm } from "../../src/vsphere/search.ts";
import { arr, moref, str } from "../../src/vsphere/convert.ts";
import type { MoRef } from "../../src/vsphere/soap/types.ts";
import type { LearnedVm } from "../../src/watchdog/learn.ts";
import { cachePath } from "../../src/watchdog/persist.ts";
import { type Cluster, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { copies, Leftovers, makeStateDir, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const left = new Leftovers();
afterEach(() => left.clear());

const HOSTS = ["esx01", "esx02", "esx03"];

/** esx01 runs the VM; the three hosts mount the one shared datastore under three names. */
async function cluster(): Promise<Cluster> {
  const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02", datastore: "shared-two" }, { name: "esx03", datastore: "shared-three" }], lockTtlS: 2 });
  left.clusters.push(c);
  return c;
}

/** What the host itself reports for the VM: identity and networks, read apart from the code under test. */
async function truth(e: EsxiConfig): Promise<{ uuid?: string; instanceUuid?: string; networks: string[] }> {
  const { bmc: _bmc, ...endpoint } = e;
  const client = await VimClient.connect(endpoint);
  try {
    const ref = (await findVm(client, { by: "name", value: VM_NAME })).ref;
    const p = await retrieveOne(client, ref, ["config.uuid", "config.instanceUuid", "network"]);
    const nets = arr(p.network).map(moref).filter((r): r is MoRef => !!r);
    const networks = await Promise.all(nets.map(async (r) => str((await retrieveOne(client, r, ["name"])).name) ?? r.value));
    return { uuid: str(p["config.uuid"]), instanceUuid: str(p["config.instanceUuid"]), networks: networks.sort() };
  } finally {
    await client.close();
  }
}

const readCache = (stateDir: string) => JSON.parse(readFileSync(cachePath(stateDir, "mgmt"), "utf8")) as LearnedVm;
const named = (learned: LearnedVm, host: string, name: string) => learned.datastores[host]?.find((d) => d.name === name);

describe("learning while healthy", () => {
  test("persisted: host, power state, vmx, uuids, networks, and each host's name for the datastore (by URL); refreshed on a timer", async () => {
    const c = await cluster();
    const expected = await truth(c.host("esx01").esxi());
    expect(expected.networks.length).toBeGreaterThan(0);
    // esx03 hangs before the first learn: its datastore name is not known yet.
    c.host("esx03").hang();
    const w = await runWatchdog(c, testConfig(HOSTS), { deps: { refreshIntervalMs: 1500 } });
    left.running.push(w);
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the watchdog to learn the VM", 30_000, () => w.tail());

    const first = readCache(w.stateDir);
    expect(first).toMatchObject({ vm: VM_NAME, host: "esx01", powerState: "poweredOn", vmxPath: "[shared-ds] vcsa/vcsa.vmx", uuid: expected.uuid, instanceUuid: expected.instanceUuid, networks: expected.networks });
    expect(first.uuid).toBeDefined();
    expect(first.instanceUuid).toBeDefined();
    const url = first.datastoreUrl;
    expect(named(first, "esx01", "shared-ds")?.url).toBe(url);
    expect(named(first, "esx02", "shared-two")?.url).toBe(url);
    expect(first.datastores.esx03).toBeUndefined();

    // Nothing about the VM changes, so only the refresh timer can pick up esx03's name.
    c.host("esx03").unhang();
    const later = await waitFor(() => {
      const l = readCache(w.stateDir);
      return named(l, "esx03", "shared-three") ? l : undefined;
    }, "a timed refresh to learn esx03's datastore name", 30_000, () => w.tail());
    expect(named(later, "esx03", "shared-three")?.url).toBe(url);
    expect(later.learnedAt > first.learnedAt).toBe(true);
  });

  test("the persisted picture alone carries a failover: the VM's host dies while esxkit is down", async () => {
    const c = await cluster();
    const stateDir = makeStateDir();
    left.dirs.push(stateDir);
    const first = await runWatchdog(c, testConfig(HOSTS), { stateDir });
    left.running.push(first);
    await waitFor(() => first.service.status().state === "healthy" && readCache(stateDir).datastores.esx03, "the first esxkit to learn the VM", 30_000, () => first.tail());
    await first.stop();
    const { uuid } = readCache(stateDir);

    c.host("esx01").crash();
    const w = await runWatchdog(c, testConfig(HOSTS), { stateDir });
    left.running.push(w);
    // Known from the cache before any host is read.
    expect(w.service.status().host).toBe("esx01");
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host !== "esx01", "the failover", 60_000, () => w.tail());

    const target = w.service.status().host as string;
    const names: Record<string, string> = { esx02: "shared-two", esx03: "shared-three" };
    const onTarget = await copies(c, target);
    expect(onTarget).toHaveLength(1);
    expect(onTarget[0]).toMatchObject({ path: `[${names[target]}] vcsa/vcsa.vmx`, powerState: "poweredOn", uuid });
    expect(c.host("esx01").count("power_off")).toBe(1);
  });
});
