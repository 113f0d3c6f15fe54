// A simulator, a client pool and a VsphereHub, for BMC tests that go through vSphere.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VmSelector } from "../../../src/config/types.ts";
import { fileBootRestoreStore } from "../../../src/bmc/boot-restore-store.ts";
import { VsphereBackend, type VsphereBackendOptions } from "../../../src/bmc/vsphere-backend.ts";
import { VsphereHub } from "../../../src/bmc/vsphere-hub.ts";
import { createLogger, silentLogger } from "../../../src/log/logger.ts";
import { VimClientPool } from "../../../src/vsphere/pool.ts";
import { startVcsim, type Vcsim, type VcsimOptions } from "../vcsim.ts";
import { simEndpoint } from "../vsphere/sim.ts";

export interface VsphereBmcFixture {
  sim: Vcsim;
  pool: VimClientPool;
  hub: VsphereHub;
  stateDir: string;
  backend(selector: VmSelector, over?: Partial<VsphereBackendOptions> & { name?: string }): VsphereBackend;
  cleanup(): Promise<void>;
}

export async function startVsphereBmcFixture(opts: VcsimOptions = {}): Promise<VsphereBmcFixture> {
  const sim = await startVcsim(opts);
  const endpoint = simEndpoint(sim, { name: "vc1", timeout_ms: 3000 });
  const pool = new VimClientPool([endpoint], { logger: silentLogger });
  const hub = new VsphereHub({ vcenter: "vc1", getClient: () => pool.get("vc1"), logger: process.env.BMC_DEBUG ? createLogger({ level: "debug", format: "pretty" }) : silentLogger, retryMs: { initial: 200, max: 1000 } });
  const stateDir = mkdtempSync(join(tmpdir(), "esxkit-bmc-"));
  const backends: VsphereBackend[] = [];
  return {
    sim,
    pool,
    hub,
    stateDir,
    backend(selector, over = {}) {
      const name = over.name ?? selector.value;
      const b = new VsphereBackend({
        hub,
        bmcName: name,
        selector,
        maxStalenessMs: 30_000,
        logger: silentLogger,
        store: fileBootRestoreStore(stateDir, name),
        taskTimeoutMs: 10_000,
        resolveTimeoutMs: 5_000,
        oneShotRestoreDelayMs: 0,
        ...over,
      });
      backends.push(b);
      return b;
    },
    async cleanup() {
      if (sim.proc.signalCode === null) sim.proc.kill("SIGCONT");
      await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
      await hub.close();
      await pool.close();
      await sim.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Poll until `fn` is truthy, at most `timeoutMs`. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}
