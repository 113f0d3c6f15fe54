// The vCenter connection cap, against the simulator: a burst of calls shares at most
// `max_connections` connections, and a long poll or a datastore upload in flight never takes
// one of them (else one watch and one slow upload would stall every power command behind them).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { VimClient } from "../../src/vsphere/client.ts";
import { metrics } from "../../src/log/metrics.ts";
import { PropertyWatch } from "../../src/vsphere/watch.ts";
import { SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const fx = new SimFixture();
let sim: Vcsim;
beforeAll(async () => {
  sim = await fx.start({});
});
afterAll(() => fx.cleanup());

/** A client whose new connections are counted. */
async function counted(maxConnections: number, name = `cap-${maxConnections}`): Promise<{ client: VimClient; connections: () => number }> {
  let opened = 0;
  const client = await fx.connect(sim, { max_connections: maxConnections, name }, { http: { onConnection: () => opened++ } });
  return { client, connections: () => opened };
}

function currentTime(c: VimClient): Promise<unknown> {
  return c.call("CurrentTime", { type: "ServiceInstance", value: "ServiceInstance" });
}

describe("a burst of calls", () => {
  test.each([
    [4, 4],
    [1, 1],
  ])("max_connections = %d: 60 concurrent calls open at most %d connections, and all succeed", async (cap, most) => {
    const { client, connections } = await counted(cap);
    const before = connections();
    const answers = await Promise.all(Array.from({ length: 60 }, () => currentTime(client)));
    expect(answers.every((a) => typeof a === "string" && !Number.isNaN(Date.parse(a)))).toBe(true);
    expect(connections() - before).toBeLessThanOrEqual(most);
  });

  test("/metrics shows the calls waiting for a connection, and the connections open", async () => {
    const name = "cap-metrics"; // a series of its own in the shared registry
    const { client } = await counted(4, name);
    const series = (metric: string) => Number(new RegExp(`^${metric}\\{endpoint="${name}"\\} (\\d+)$`, "m").exec(metrics.render())?.[1] ?? Number.NaN);
    const burst = Promise.all(Array.from({ length: 60 }, () => currentTime(client)));
    // Dispatched at once: 4 go to the pool's connections, the rest wait in its queue.
    expect(series("esxkit_vcenter_queued_requests")).toBeGreaterThanOrEqual(50);
    await burst;
    expect(series("esxkit_vcenter_queued_requests")).toBe(0);
    expect(series("esxkit_vcenter_connections")).toBeGreaterThanOrEqual(1);
    expect(series("esxkit_vcenter_connections")).toBeLessThanOrEqual(4);
    await client.close();
    expect(metrics.render()).not.toContain(`endpoint="${name}"}`);
  });

  test("without the cap the same burst opens more than 4 (the row above can fail)", async () => {
    const { client, connections } = await counted(1024);
    const before = connections();
    await Promise.all(Array.from({ length: 60 }, () => currentTime(client)));
    expect(connections() - before).toBeGreaterThan(4);
  });
});

/** Once the held request is in flight, an ordinary call still gets through within 3 s. */
async function expectAnsweredWhileHeld(client: VimClient): Promise<void> {
  await Bun.sleep(200);
  const t0 = performance.now();
  await currentTime(client);
  expect(performance.now() - t0).toBeLessThan(3000);
}

describe("long-held requests keep out of the cap", () => {
  test("with max_connections = 1, a call is answered while a WaitForUpdatesEx long poll waits", async () => {
    const { client } = await counted(1);
    const watch = new PropertyWatch(client, { kind: "container", type: "VirtualMachine" }, { paths: ["runtime.powerState"], maxWaitSeconds: 20 });
    await watch.start(); // from here its long poll (20 s server-side) is in flight
    try {
      await expectAnsweredWhileHeld(client);
    } finally {
      await watch.stop();
    }
  });

  test("with max_connections = 1, a call is answered while a datastore upload is still sending", async () => {
    const { client } = await counted(1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1024);
      await held; // the upload's connection stays busy until the call below is answered
      yield new Uint8Array(1024);
    }
    const upload = client.httpRequest("/folder/cap-test.bin?dcPath=DC0&dsName=LocalDS_0", {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": "2048" },
      body: slowBody(),
      headersTimeoutMs: 0,
      bodyTimeoutMs: 10_000,
    });
    try {
      await expectAnsweredWhileHeld(client);
    } finally {
      release();
    }
    const res = await upload;
    await res.body.dump();
    expect(res.statusCode).toBeLessThan(300);
  });
});
