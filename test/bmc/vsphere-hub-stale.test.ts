// A paused vCenter (the simulator SIGSTOPped) and its resume, at the hub: stale power reads
// of several BMCs share one direct RetrievePropertiesEx at a time (rate-limited), and the
// states are fresh again within moments of SIGCONT. The log says so once per outage.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { VsphereBackend } from "../../src/bmc/vsphere-backend.ts";
import { VsphereHub } from "../../src/bmc/vsphere-hub.ts";
import { createLogger } from "../../src/log/logger.ts";
import { metrics } from "../../src/log/metrics.ts";
import { VimClientPool } from "../../src/vsphere/pool.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { waitFor } from "../support/bmc/vsphere.ts";
import { startVcsim, type Vcsim } from "../support/vcsim.ts";
import { simEndpoint } from "../support/vsphere/sim.ts";

const logs: Array<{ msg: string } & Record<string, unknown>> = [];
const logger = createLogger({ level: "info", format: "json", journal: false, write: (l) => logs.push(JSON.parse(l)) });
let sim: Vcsim;
let pool: VimClientPool;
let hub: VsphereHub;
const backends: VsphereBackend[] = [];

/** RetrievePropertiesEx requests made to this endpoint so far. */
function directReads(): number {
  const line = metrics.render().split("\n").find((l) => l.startsWith('esxkit_vcenter_request_seconds_count{endpoint="stale-vc",method="RetrievePropertiesEx"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

beforeAll(async () => {
  sim = await startVcsim({ args: ["-vm", "3"] });
  pool = new VimClientPool([simEndpoint(sim, { name: "stale-vc", timeout_ms: 2000 })], { logger });
  hub = new VsphereHub({ vcenter: "stale-vc", getClient: () => pool.get("stale-vc"), logger, retryMs: { initial: 200, max: 1000 } });
  for (const vm of await listVms(await pool.get("stale-vc"))) {
    backends.push(new VsphereBackend({ hub, bmcName: vm.name, selector: { by: "name", value: vm.name }, maxStalenessMs: 2000, logger }));
  }
});

afterAll(async () => {
  process.kill(sim.pid, "SIGCONT");
  for (const b of backends) await b.close();
  await hub.close();
  await pool.close();
  await sim.stop();
});

test("stale reads of several BMCs: few coalesced direct reads, fresh again right after the resume, logged once", async () => {
  await waitFor(() => backends.every((b) => b.powerState().fresh), "fresh power states");
  expect(hub.connection()).toMatchObject({ kind: "vcenter", name: "stale-vc", connected: true });

  process.kill(sim.pid, "SIGSTOP");
  await waitFor(() => backends.every((b) => !b.powerState().fresh), "stale power states", 10_000);
  const before = directReads();
  const staleSince = Date.now();
  // Many refused reads while paused: one direct read at a time, at most one per second.
  for (let i = 0; i < 20; i++) {
    for (const b of backends) expect(b.powerState().fresh).toBe(false);
    await Bun.sleep(100);
  }
  expect(hub.connection().connected).toBe(false);

  process.kill(sim.pid, "SIGCONT");
  const resumedAt = Date.now();
  await waitFor(
    () => {
      const fresh = backends.map((b) => b.powerState().fresh);
      return fresh.every(Boolean) || undefined;
    },
    "fresh again after SIGCONT",
    5000,
  );
  const elapsed = Date.now() - resumedAt;
  console.log(`fresh ${elapsed} ms after SIGCONT`);
  expect(elapsed).toBeLessThan(2500);
  // 20 stale reads per BMC over ~2 s of pause plus the resume: a handful of reads, not one per read.
  const reads = directReads() - before;
  expect(reads).toBeGreaterThanOrEqual(1);
  expect(reads).toBeLessThanOrEqual(Math.ceil((Date.now() - staleSince) / 1000) + 2);
  expect(backends.every((b) => b.powerState().state === "on")).toBe(true);

  await waitFor(() => logs.some((l) => l.msg === "power state fresh again; power reads are answered"), "the recovery line");
  expect(logs.filter((l) => l.msg === "power state is stale: power reads are refused (0xC3, timeout) until vCenter answers")).toHaveLength(1);
  const fresh = logs.find((l) => l.msg === "power state fresh again; power reads are answered");
  expect(fresh).toMatchObject({ vcenter: "stale-vc", bmcs: backends.length });
  expect(Number(fresh?.refused)).toBeGreaterThanOrEqual(20 * backends.length);
  await waitFor(() => hub.connection().connected, "connected again", 5000);
}, 60_000);
