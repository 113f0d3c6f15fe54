// Split brain through the real pieces: esx03 mounts its own copy of the datastore under the same
// volume uuid (so its vmx lock is not the others'), and the VM is powered on there while it runs
// on esx01. The watchdog must enter split_brain (status, metrics, journal, /healthz), take no
// action, and once one copy is powered off, unregister the stray registration (files kept).
import { afterEach, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMetricsServer } from "../../src/daemon/http.ts";
import type { Daemon } from "../../src/daemon/daemon.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { powerOffVm, powerOnVm, registerVm } from "../../src/vsphere/vm.ts";
import { movedChoice } from "../../src/watchdog/failover.ts";
import { startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { copies, Leftovers, rounds, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const left = new Leftovers();
afterEach(() => left.clear());

const VOLUME = "5f0c1d2e-aaaabbbb-cccc-0050560000aa";
const VMX = `[shared-ds] ${VM_NAME}/${VM_NAME}.vmx`;

describe("split brain", () => {
  test("the VM powered on on two hosts: split_brain in status, metrics, journal and /healthz; then the stray copy is unregistered", async () => {
    const other = mkdtempSync(join(tmpdir(), "esxkit-wd-other-ds-"));
    left.dirs.push(other);
    const same = ["-datastore-uuid", `shared-ds=${VOLUME}`];
    const c = await startCluster({
      hosts: [
        { name: "esx01", runsVm: true, args: same },
        { name: "esx02", args: same },
        { name: "esx03", datastore: false, args: ["-datastore-dir", `shared-ds=${other}`, ...same] },
      ],
      lockTtlS: 2,
    });
    left.clusters.push(c);
    // A copy of the VM's files, without esx01's lock (.lck): another array, as far as locks go.
    cpSync(join(c.datastoreDir, VM_NAME), join(other, VM_NAME), { recursive: true, filter: (src) => !src.includes(".lck") });
    const w = await runWatchdog(c, testConfig(["esx01", "esx02", "esx03"]), { deps: { refreshIntervalMs: 1000 } });
    left.running.push(w);
    left.dirs.push(w.stateDir);
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the VM learned on esx01", 30_000, () => w.tail());

    // Someone starts the same VM on esx03.
    const esx03 = await VimClient.connect(c.esxi().esx03!);
    try {
      const ref = await registerVm(esx03, { path: VMX, name: VM_NAME });
      await powerOnVm(esx03, ref, { onQuestion: movedChoice });
      const s = await waitFor(() => (w.service.status().state === "split_brain" ? w.service.status() : undefined), "split_brain", 30_000, () => w.tail());
      expect(s.splitBrain?.hosts).toEqual(["esx01", "esx03"]);
      expect(s.reason).toContain("powered on on esx01 and esx03");
      const record = w.journal().find((r) => r.kind === "split_brain");
      expect(record?.severity).toBe("critical");
      const metrics = w.metrics.render();
      expect(metrics).toContain('esxkit_watchdog_split_brain{watchdog="mgmt"} 1');
      expect(metrics).toContain('esxkit_watchdog_state{state="split_brain",watchdog="mgmt"} 1');

      // /healthz of a daemon running this watchdog says so.
      const daemon = { config: {}, connections: () => [], services: { status: () => [{ ...w.service.status(), kind: "watchdog", up: true }], down: () => [] } } as unknown as Daemon;
      const server = startMetricsServer("127.0.0.1:0", daemon);
      try {
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).toBe(503);
        expect(await res.text()).toContain("split brain: watchdog mgmt: the VM is powered on on esx01 and esx03");
      } finally {
        await server.stop();
      }

      // It stays so (no fence, no power-on) until a human resolves it.
      await rounds(w, 4);
      expect(w.service.status().state).toBe("split_brain");
      expect(w.kinds()).not.toContain("fence_started");

      await powerOffVm(esx03, ref);
    } finally {
      await esx03.close();
    }
    await waitFor(() => w.service.status().state === "healthy", "healthy again", 30_000, () => w.tail());
    await waitFor(async () => (await copies(c, "esx03")).length === 0, "the stray registration on esx03 unregistered", 30_000, () => w.tail());
    expect(w.kinds()).toContain("split_brain_resolved");
    expect(w.kinds()).toContain("stale_unregistered");
    expect(w.service.status().splitBrain).toBeUndefined();
    expect(w.metrics.render()).toContain('esxkit_watchdog_split_brain{watchdog="mgmt"} 0');
    expect(existsSync(join(other, VM_NAME, `${VM_NAME}.vmx`))).toBe(true); // UnregisterVM keeps the files
    expect((await copies(c, "esx01"))[0]?.powerState).toBe("poweredOn");
  });
});
