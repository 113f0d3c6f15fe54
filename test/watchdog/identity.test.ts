// BMC-to-host identity through the real pieces: simulated hosts with their own hardware uuid,
// pyghmi BMCs that answer Get System GUID in a vendor's byte order, and the watchdog's own
// RMCP+ client. A BMC entry that points at another host's BMC must never fence anything.
import { afterEach, describe, expect, test } from "bun:test";
import type { EsxiConfig } from "../../src/config/types.ts";
import { type Cluster, type HostSpec, startCluster } from "../support/watchdog/cluster.ts";
import { copies, Leftovers, rounds, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const left = new Leftovers();
afterEach(() => left.clear());

async function cluster(hosts: HostSpec[]): Promise<Cluster> {
  const c = await startCluster({ hosts, lockTtlS: 2 });
  left.clusters.push(c);
  return c;
}

describe("BMC identity", () => {
  test("esx01's bmc points at esx03's BMC: refused (critical alert, status), and nothing is ever fenced", async () => {
    const c = await cluster([{ name: "esx01", runsVm: true }, { name: "esx02" }, { name: "esx03" }]);
    const esxi: Record<string, EsxiConfig> = c.esxi();
    esxi.esx01 = { ...esxi.esx01!, bmc: { ...esxi.esx03!.bmc! } };
    const w = await runWatchdog(c, testConfig(["esx01", "esx02", "esx03"]), { deps: { esxi } });
    left.running.push(w);
    left.dirs.push(w.stateDir);

    const ids = await waitFor(() => {
      const s = w.service.status().bmcIdentity;
      return s.esx01?.state !== "unchecked" && s.esx02?.state === "verified" && s.esx03?.state === "verified" ? s : undefined;
    }, "every BMC to be checked", 30_000, () => w.tail());
    expect(ids.esx01?.state).toBe("mismatch");
    expect(ids.esx01?.guid).toBeDefined();
    expect(ids.esx01?.hostUuid).toBe(c.host("esx01").uuid);
    expect(ids.esx01?.reason).toContain("another machine's BMC");
    expect(ids.esx03?.order).toBe("smbios");
    const alert = w.journal().find((r) => r.kind === "bmc_identity" && r.host === "esx01");
    expect(alert?.severity).toBe("critical");
    expect(String(alert?.message)).toContain("esx01 will never be fenced");

    await waitFor(() => w.service.status().state === "healthy", "the watchdog to be healthy", 30_000, () => w.tail());
    c.host("esx01").crash();
    await waitFor(() => w.service.status().held === "bmc_identity", "the failover to be held", 30_000, () => w.tail());
    await rounds(w, 6);
    expect(w.service.status().state).toBe("held");
    expect(c.host("esx03").count("power_off")).toBe(0);
    expect(c.host("esx03").hostPid).toBeDefined();
    expect(c.host("esx01").count("power_off")).toBe(0);
    expect(await copies(c, "esx02")).toHaveLength(0);
    expect(await copies(c, "esx03")).toHaveLength(0);
    expect(w.kinds()).not.toContain("fence_started");
  });

  test("every vendor byte order is accepted, a bmc.guid pin overrides, a BMC without Get System GUID is unidentified", async () => {
    const other = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const c = await cluster([
      { name: "esx01", runsVm: true, guidOrder: "rfc4122" },
      { name: "esx02", guidOrder: "reversed" },
      { name: "esx03", bmcGuid: other },
      { name: "esx04", bmcGuid: false },
    ]);
    const esxi = c.esxi();
    esxi.esx03 = { ...esxi.esx03!, bmc: { ...esxi.esx03!.bmc!, guid: other.toUpperCase() } };
    const w = await runWatchdog(c, testConfig(["esx01", "esx02", "esx03", "esx04"]), { deps: { esxi } });
    left.running.push(w);
    left.dirs.push(w.stateDir);
    const ids = await waitFor(() => {
      const s = w.service.status().bmcIdentity;
      return Object.values(s).every((i) => i.state !== "unchecked") ? s : undefined;
    }, "every BMC to be checked", 30_000, () => w.tail());
    expect({ esx01: ids.esx01?.order, esx02: ids.esx02?.order }).toEqual({ esx01: "rfc4122", esx02: "reversed" });
    expect(ids.esx01?.state).toBe("verified");
    expect(ids.esx02?.state).toBe("verified");
    expect(ids.esx03?.state).toBe("pinned");
    expect(ids.esx04?.state).toBe("unidentified");
    expect(ids.esx04?.source).toBe("rakp2");
    expect(ids.esx04?.reason).toContain("bmc.guid");
    const critical = w.journal().filter((r) => r.kind === "bmc_identity").map((r) => r.host);
    expect(critical).toEqual(["esx04"]);
  });
});

describe("after a fence", () => {
  test("another watched host going silent raises a critical alarm naming both hosts", async () => {
    const c = await cluster([{ name: "esx01", runsVm: true }, { name: "esx02" }, { name: "esx03" }]);
    const w = await runWatchdog(c, testConfig(["esx01", "esx02", "esx03"]));
    left.running.push(w);
    left.dirs.push(w.stateDir);
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the VM learned on esx01", 30_000, () => w.tail());
    c.host("esx01").crash();
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx02", "the VM restarted on esx02", 45_000, () => w.tail());
    expect(w.kinds()).not.toContain("silent_after_fence");
    c.host("esx03").crash();
    const alarm = await waitFor(() => w.journal().find((r) => r.kind === "silent_after_fence"), "the alarm", 30_000, () => w.tail());
    expect(alarm.severity).toBe("critical");
    expect(alarm).toMatchObject({ host: "esx03", fenced: "esx01" });
    expect(String(alarm.message)).toContain("esx03 went silent");
  });
});
