// The hub's watch against the govmomi simulator: its long poll is sized by the staleness bound
// alone, and a poll longer than the endpoint's timeout_ms completes instead of being cut off
// by the HTTP header timeout (the poll's own deadline covers it).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { VsphereBackend } from "../../src/bmc/vsphere-backend.ts";
import { VsphereHub } from "../../src/bmc/vsphere-hub.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { VimClientPool } from "../../src/vsphere/pool.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { waitFor } from "../support/bmc/vsphere.ts";
import { startVcsim, type Vcsim } from "../support/vcsim.ts";
import { simEndpoint } from "../support/vsphere/sim.ts";

let sim: Vcsim;
let pool: VimClientPool;
let hub: VsphereHub;
let backend: VsphereBackend | undefined;

beforeAll(async () => {
  sim = await startVcsim({ args: ["-vm", "1"] });
  pool = new VimClientPool([simEndpoint(sim, { name: "vc1", timeout_ms: 2000 })], { logger: silentLogger });
  hub = new VsphereHub({ vcenter: "vc1", getClient: () => pool.get("vc1"), logger: silentLogger, retryMs: { initial: 200, max: 1000 } });
});
afterAll(async () => {
  await backend?.close();
  await hub.close();
  await pool.close();
  await sim.stop();
});

test("timeout_ms = 2000, max_staleness_s = 30: 15 s polls, each one answered rather than cut off", async () => {
  const [vm] = await listVms(await pool.get("vc1"));
  backend = new VsphereBackend({ hub, bmcName: "hub", selector: { by: "name", value: vm!.name }, maxStalenessMs: 30_000, logger: silentLogger });
  await waitFor(() => backend!.powerState().fresh, "fresh power state");
  expect(hub.watchMaxWaitSeconds()).toBe(15);

  // One poll is in flight. Nothing changes, so it ends when the simulator's 15 s wait does; a
  // poll cut off at timeout_ms would fail and be retried, and never advance lastSyncAt.
  const requests = hub.watchRequests();
  const syncedAt = hub.lastSyncAt()!;
  await waitFor(() => hub.lastSyncAt()! > syncedAt, "the long poll's answer", 30_000);
  expect(hub.watchRequests()).toBe(requests + 1);
  expect(backend.powerState().fresh).toBe(true);
}, 60_000);
