// readCoalesced against the simulator: reads asked for together share RetrievePropertiesEx
// requests (one per COALESCED_CHUNK objects), each caller gets what retrieveOne gives it (also
// for a VM that is gone, whose fault would otherwise fail its whole batch), reads that arrive
// while a batch is on the wire go in the next one, and a vCenter that cannot be reached fails
// every caller as retrieveOne would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorCode } from "../../src/errors.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { COALESCED_CHUNK, readCoalesced } from "../../src/vsphere/coalesced-read.ts";
import { retrieveOne } from "../../src/vsphere/properties.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import type { MoRef } from "../../src/vsphere/soap/types.ts";
import { SimFixture } from "../support/vsphere/sim.ts";

const PATHS = ["name", "config.hardware.device", "runtime.powerState"];
const GONE: MoRef = { type: "VirtualMachine", value: "vm-gone-12345" };

/** The outcome a caller sees: the properties, or the error's code. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    return { error: errorCode(err) ?? String(err) };
  }
}

describe("readCoalesced", () => {
  const fx = new SimFixture();
  let c: VimClient;
  let vms: VmIdentity[];
  beforeAll(async () => {
    // ESX mode: -vm N gives exactly N VMs on the one host.
    c = await fx.connect(await fx.start({ mode: "esx", args: ["-vm", "250"] }));
    vms = await listVms(c);
    expect(vms.length).toBe(250);
  });
  afterAll(() => fx.cleanup());

  test.each([
    ["one VM", 1, [], 1],
    ["ten VMs", 10, [], 1],
    ["a chunk's worth", COALESCED_CHUNK, [], 1],
    ["every VM: three chunks", 250, [], 3],
    ["the same VM asked for twice", 2, [0, 0], 1],
    ["a gone VM among five: the batch is refused, then each is read alone", 5, ["gone"], 1 + 6],
  ] as const)("%s", async (_name, n, extra, wantRequests) => {
    const refs: MoRef[] = vms.slice(0, n).map((v) => v.ref);
    for (const e of extra) refs.push(e === "gone" ? GONE : vms[e]!.ref);
    const want = await Promise.all(refs.map((r) => outcome(retrieveOne(c, r, PATHS))));
    const before = c.stats.requests;
    const got = await Promise.all(refs.map((r) => outcome(readCoalesced(c, r, PATHS))));
    expect(c.stats.requests - before).toBe(wantRequests);
    expect(got).toEqual(want);
    if (extra.includes("gone" as never)) expect(got.at(-1)).toEqual({ error: "ESX_NOT_FOUND" });
  });

  test("reads that arrive while a batch is on the wire go in the next batch, none is lost", async () => {
    const before = c.stats.requests;
    const first = vms.slice(0, 10).map((v) => readCoalesced(c, v.ref, PATHS));
    await new Promise((r) => setImmediate(r)); // the first batch is sent now
    expect(c.stats.requests - before).toBe(1);
    const second = vms.slice(10, 20).map((v) => readCoalesced(c, v.ref, PATHS));
    const got = await Promise.all([...first, ...second]);
    expect(got.map((p) => p.name)).toEqual(vms.slice(0, 20).map((v) => v.name));
    expect(c.stats.requests - before).toBe(2);
  });

  test("different paths are different batches", async () => {
    const before = c.stats.requests;
    const [a, b] = await Promise.all([readCoalesced(c, vms[0]!.ref, ["name"]), readCoalesced(c, vms[1]!.ref, ["runtime.powerState"])]);
    expect(Object.keys(a)).toEqual(["name"]);
    expect(Object.keys(b)).toEqual(["runtime.powerState"]);
    expect(c.stats.requests - before).toBe(2);
  });
});

describe("an unreachable vCenter", () => {
  const fx = new SimFixture();
  afterAll(() => fx.cleanup());

  test("fails every caller of the batch with the error retrieveOne gives", async () => {
    const sim = await fx.start({ mode: "esx", args: ["-vm", "3"] });
    const c = await fx.connect(sim, { timeout_ms: 2000 });
    const vms = await listVms(c);
    await sim.stop();
    const want = await outcome(retrieveOne(c, vms[0]!.ref, PATHS));
    expect(want).toEqual({ error: "ESX_CONNECT" });
    const got = await Promise.all(vms.map((v) => outcome(readCoalesced(c, v.ref, PATHS))));
    expect(got).toEqual(vms.map(() => want));
  });
});
