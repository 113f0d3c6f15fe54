// Pausing for planned maintenance, through the service API the daemon's control socket calls
// (`esxkit watchdog pause --for 2h` → service.pause(ttlMs)) and through a pause file written
// by hand while no daemon runs. A pause ends by itself when its TTL runs out: the tests move
// the watchdog's clock forward instead of waiting hours.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOUR_MS } from "../../src/watchdog/safety.ts";
import { type Clock, systemClock } from "../../src/watchdog/service.ts";
import { type Cluster, startCluster } from "../support/watchdog/cluster.ts";
import { copies, Leftovers, makeStateDir, nothingHappened, type Running, rounds, runWatchdog, testConfig, waitFor } from "../support/watchdog/harness.ts";

const left = new Leftovers();
afterEach(() => left.clear());

/** Real time plus a jump the test controls. */
function jumpingClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return { now: () => systemClock.now() + offset, sleep: systemClock.sleep, jump: (ms) => void (offset += ms) };
}

async function cluster(): Promise<Cluster> {
  const c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }], lockTtlS: 2 });
  left.clusters.push(c);
  return c;
}

async function start(c: Cluster, clock: Clock, stateDir = makeStateDir()): Promise<Running> {
  left.dirs.push(stateDir);
  const w = await runWatchdog(c, testConfig(["esx01", "esx02"]), { stateDir, deps: { clock } });
  left.running.push(w);
  return w;
}

/** Crash esx01 and check the pause holds the failover for a few rounds. */
async function crashWhilePaused(c: Cluster, w: Running): Promise<void> {
  c.host("esx01").crash();
  await waitFor(() => w.service.status().held === "paused", "the failover to be held by the pause", 30_000, () => w.tail());
  await rounds(w, 4);
  expect(w.service.status().held).toBe("paused");
  await nothingHappened(c, w);
}

/** Once the pause is over, the failover that was held goes ahead. */
async function failsOverToEsx02(c: Cluster, w: Running): Promise<void> {
  await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx02", "the failover after the pause", 45_000, () => w.tail());
  expect((await copies(c, "esx02"))[0]?.powerState).toBe("poweredOn");
  expect(c.host("esx01").count("power_off")).toBe(1);
}

describe("pause", () => {
  test("a pause with a TTL (service API) holds a failover and ends by itself", async () => {
    const c = await cluster();
    const clock = jumpingClock();
    const w = await start(c, clock);
    await waitFor(() => w.service.status().state === "healthy" && w.service.status().host === "esx01", "the watchdog to learn the VM", 30_000, () => w.tail());

    const before = clock.now();
    const info = w.service.pause(2 * HOUR_MS, "patching esx01");
    expect(info).toMatchObject({ paused: true, reason: "patching esx01" });
    expect(info.until).toBeGreaterThanOrEqual(before + 2 * HOUR_MS);
    expect(info.until).toBeLessThanOrEqual(clock.now() + 2 * HOUR_MS);
    // The pause is a file, so it outlives a daemon restart.
    expect(JSON.parse(readFileSync(info.file as string, "utf8"))).toMatchObject({ until: new Date(info.until as number).toISOString(), reason: "patching esx01" });
    expect(w.service.status()).toMatchObject({ paused: true, pausedUntil: new Date(info.until as number).toISOString() });

    await crashWhilePaused(c, w);

    clock.jump(2 * HOUR_MS + 1000);
    await waitFor(() => w.journal().some((r) => r.kind === "resumed" && String(r.message).includes("expired")), "the pause to expire", 30_000, () => w.tail());
    expect(existsSync(info.file as string)).toBe(false);
    await failsOverToEsx02(c, w);
    expect(w.service.status().paused).toBe(false);
  });

  test("a pause file written while no daemon runs is honoured from the start, until its own time", async () => {
    const c = await cluster();
    const clock = jumpingClock();
    // The operator's file, in the documented place and format, before esxkit starts.
    const stateDir = makeStateDir();
    mkdirSync(join(stateDir, "watchdog"), { recursive: true });
    const until = new Date(clock.now() + HOUR_MS).toISOString();
    writeFileSync(join(stateDir, "watchdog", "mgmt.pause"), JSON.stringify({ until, reason: "firmware update" }));

    const w = await start(c, clock, stateDir);
    // Paused before the first probe round.
    expect(w.service.status()).toMatchObject({ paused: true, pausedUntil: until, pauseReason: "firmware update", rounds: 0 });
    await waitFor(() => w.service.status().host === "esx01" && w.service.status().state === "healthy", "the watchdog to learn the VM", 30_000, () => w.tail());
    expect(w.service.status().paused).toBe(true);

    await crashWhilePaused(c, w);

    clock.jump(HOUR_MS + 1000);
    await failsOverToEsx02(c, w);
    expect(existsSync(join(stateDir, "watchdog", "mgmt.pause"))).toBe(false);
    expect(w.kinds()).toContain("resumed");
  });
});
