// A [[bmc]] whose only change on reload is its port restarts onto the same VM through the
// same VsphereHub: the new BMC must answer with the VM's real power state, and power it off.
// (The old BMC's leave and the new one's join hit the same VM in the hub's watch.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createPlanner, type Planner } from "../../src/daemon/plan.ts";
import { ServiceSet } from "../../src/daemon/reconcile.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { ipmitool, ok } from "../support/bmc/clients.ts";
import { BMC_PASSWORD, BMC_USER } from "../support/bmc/service.ts";
import { waitFor } from "../support/bmc/vsphere.ts";
import { startVcsim, type Vcsim } from "../support/vcsim.ts";
import { connectSim } from "../support/vsphere/sim.ts";

let sim: Vcsim;
let client: VimClient;
let planner: Planner;
let services: ServiceSet;
let vm = "";
const dir = mkdtempSync(join(tmpdir(), "esxkit-reload-port-"));

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(port: number): Config {
  return parseConfig(
    `[daemon]
state_dir = "${join(dir, "state")}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "${sim.password}"
thumbprint = "${sim.thumbprintSha256}"

[[bmc]]
name = "bmc0"
vm = "${vm}"
address = "127.0.0.1"
port = ${port}
username = "${BMC_USER}"
password = "${BMC_PASSWORD}"
max_staleness_s = 30
`,
    join(dir, "config.toml"),
  );
}

async function apply(port: number) {
  const cfg = config(port);
  const result = await services.apply(planner.plan(cfg, silentLogger));
  await planner.afterApply(cfg);
  return result;
}

async function vmPower(): Promise<string | undefined> {
  return (await listVms(client)).find((v) => v.name === vm)?.powerState;
}

/** ipmitool's answer to `chassis power status`: "on", "off", or its failure output. */
async function powerStatus(port: number): Promise<string> {
  const r = await ipmitool(port, "lanplus", ["-C", "17", "-N", "1", "-R", "2"], ["chassis", "power", "status"]);
  const m = /Chassis Power is (on|off)/.exec(r.stdout);
  return m?.[1] ?? `exit ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stdout} ${r.stderr}`.trim();
}

beforeAll(async () => {
  sim = await startVcsim({ args: ["-vm", "1"] });
  client = await connectSim(sim);
  vm = (await listVms(client))[0]!.name;
  planner = createPlanner(silentLogger);
  services = new ServiceSet(silentLogger);
});

afterAll(async () => {
  await services?.stopAll();
  await planner?.close();
  await client?.close().catch(() => undefined);
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("port-only change: the restarted BMC on the new port reports the VM's power and powers it off", async () => {
  expect(await vmPower()).toBe("poweredOn");
  const portA = await freeUdpPort();
  expect((await apply(portA)).started).toEqual(["bmc:bmc0"]);
  expect(await waitFor(async () => ((await powerStatus(portA)) === "on" ? "on" : undefined), "power status on port A", 20_000)).toBe("on");

  const portB = await freeUdpPort();
  expect((await apply(portB)).restarted).toEqual(["bmc:bmc0"]);
  const status = services.status()[0]!;
  expect(status.port).toBe(portB);

  // The VM did not change: the new BMC knows its state at once (no answer after 20 s was the bug).
  let last = "";
  await waitFor(async () => (last = await powerStatus(portB)) === "on", `power status on port B (last: ${last})`, 20_000).catch((err) => {
    throw new Error(`${(err as Error).message}; last answer: ${last}; status: ${JSON.stringify(services.status()[0])}`);
  });

  ok(await ipmitool(portB, "lanplus", ["-C", "17"], ["chassis", "power", "off"]), "power off on port B");
  await waitFor(async () => (await vmPower()) === "poweredOff", "the VM powered off", 20_000);
  await waitFor(async () => (await powerStatus(portB)) === "off", "power status off on port B", 20_000);
}, 120_000);
