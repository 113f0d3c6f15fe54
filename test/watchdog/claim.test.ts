// The failover claim against the simulator's shared datastore (FileManager.MakeDirectory and
// SearchDatastore_Task through a real host): one winner per epoch, release, expiry counted from
// first sight, a restarted holder superseding its own claim, races, and no arbiter at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../../src/errors.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { defaultHost, hostDatastores } from "../../src/vsphere/host.ts";
import { CLAIM_FOLDER, FailoverArbiter, holderId, parseClaims } from "../../src/watchdog/claim.ts";
import { HostClients } from "../../src/watchdog/hosts.ts";
import type { LearnedVm } from "../../src/watchdog/learn.ts";
import { type Cluster, startCluster, VM_NAME } from "../support/watchdog/cluster.ts";
import { makeStateDir, removeStateDir, testConfig } from "../support/watchdog/harness.ts";

let c: Cluster;
let clients: HostClients;
let learned: LearnedVm;
const dirs: string[] = [];
const TTL_S = 2;

function arbiter(stateDir = makeStateDir()): FailoverArbiter {
  if (!dirs.includes(stateDir)) dirs.push(stateDir);
  return new FailoverArbiter({ cfg: testConfig(["esx01", "esx02"], { claim_ttl_s: TTL_S }), clients, stateDir, log: silentLogger, now: Date.now });
}

const claimDir = () => join(c.datastoreDir, VM_NAME, CLAIM_FOLDER);

beforeAll(async () => {
  c = await startCluster({ hosts: [{ name: "esx01", runsVm: true }, { name: "esx02" }] });
  clients = new HostClients(c.esxi(), silentLogger);
  const v = await VimClient.connect(c.esxi().esx02!);
  const ds = (await hostDatastores(v, await defaultHost(v))).find((d) => d.name === "shared-ds")!;
  await v.close();
  learned = { version: 1, vm: VM_NAME, host: "esx01", ref: { type: "VirtualMachine", value: "vm-1" }, powerState: "poweredOn", vmxPath: `[shared-ds] ${VM_NAME}/${VM_NAME}.vmx`, datastoreUrl: ds.url, networks: [], datastores: {}, learnedAt: new Date().toISOString() };
}, 120_000);

afterAll(async () => {
  await clients?.closeAll(new Set(["esx01", "esx02"]));
  await c?.stop();
  for (const d of dirs) removeStateDir(d);
});

describe("the failover claim", () => {
  test("one winner; release lets the next claim at once; expiry is counted from first sight; a restarted holder supersedes its own claim", async () => {
    const dirA = makeStateDir();
    const a = arbiter(dirA);
    const b = arbiter();
    const first = await a.claim(learned, ["esx02"]);
    expect(first).toMatchObject({ won: true, epoch: 1, via: "esx02", reused: false });
    expect(readdirSync(claimDir()).sort()).toEqual(["epoch-000001", `epoch-000001.by-${a.holder}.ttl-${TTL_S}`]);
    const lost = await b.claim(learned, ["esx02", "esx01"]);
    expect(lost).toMatchObject({ won: false, epoch: 1, holder: a.holder });
    expect(await a.claim(learned, ["esx02"])).toMatchObject({ won: true, epoch: 1, reused: true });

    await a.release();
    expect(await b.claim(learned, ["esx01"])).toMatchObject({ won: true, epoch: 2, via: "esx01" });

    // b neither finishes nor releases: a waits the TTL from when it first saw epoch 2.
    expect(await a.claim(learned, ["esx02"])).toMatchObject({ won: false, epoch: 2, holder: b.holder });
    await Bun.sleep(TTL_S * 1000 + 200);
    expect(() => b.ensure(1, "a power-on")).toThrow(/not starting a power-on/);
    expect(await a.claim(learned, ["esx02"])).toMatchObject({ won: true, epoch: 3 });

    // a crashes and restarts with the same state_dir: its own epoch 3 need not expire first.
    const a2 = arbiter(dirA);
    expect(a2.holder).toBe(a.holder);
    expect(await a2.claim(learned, ["esx02"])).toMatchObject({ won: true, epoch: 4 });
    expect([...parseClaims(readdirSync(claimDir())).keys()].sort()).toEqual([1, 2, 3, 4]);
    await a2.release();
  });

  test("racing instances through different hosts: exactly one wins each epoch", async () => {
    const racers = [arbiter(), arbiter(), arbiter()];
    for (let i = 0; i < 10; i++) {
      const outs = await Promise.all(racers.map((r, n) => r.claim(learned, [n % 2 ? "esx01" : "esx02"])));
      const winners = outs.filter((o) => o.won);
      expect(winners).toHaveLength(1);
      expect(new Set(outs.map((o) => o.epoch)).size).toBe(1);
      await racers[outs.findIndex((o) => o.won)]!.release();
    }
  });

  test("the holder id persists in state_dir, and an unwritable state_dir does not stop the watchdog", () => {
    const dir = makeStateDir();
    dirs.push(dir);
    expect(holderId(dir)).toBe(holderId(dir));
    const blocked = join(dir, "a-file");
    writeFileSync(blocked, "not a directory");
    const once = holderId(blocked);
    expect(once).toMatch(/^[A-Za-z0-9-]+_[0-9a-f]{8}$/);
    expect(holderId(blocked)).not.toBe(once); // per process only: a restart waits for its old claim
  });

  test("no host to reach the datastore through: no claim (so no fence)", async () => {
    const err = await arbiter().claim(learned, []).catch((e: unknown) => e);
    expect(errorCode(err)).toBe("ESX_FAILOVER");
    expect((err as Error).message).toContain("could not be reached");
  });
});
