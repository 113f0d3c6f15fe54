// Registering a VM from a shared datastore on a second ESXi host, the FileLocked fault while
// the first host holds the vmx lock, and answering msg.uuid.altered ("I moved it") through
// runtime.question polling, against two simulator processes sharing one datastore directory.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskFailedError } from "../../src/errors.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { str } from "../../src/vsphere/convert.ts";
import { defaultHost, hostDatastores } from "../../src/vsphere/host.ts";
import { retrieveOne } from "../../src/vsphere/properties.ts";
import { findVm } from "../../src/vsphere/search.ts";
import type { VmQuestion } from "../../src/vsphere/vim-types.ts";
import { findChoice, getPowerState, powerOnVm, registerVm } from "../../src/vsphere/vm.ts";
import { SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const fx = new SimFixture();
let dir: string;
let hostA: Vcsim;
let a: VimClient;
let b: VimClient;
const VMX = "[shared-ds] vcsa/vcsa.vmx";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "esxkit-shared-ds-"));
  const common = ["-datastore-dir", `shared-ds=${dir}`, "-vm", "0", "-lock-ttl", "1"];
  hostA = await fx.start({ mode: "esx", args: [...common, "-host-name", "esx-a", "-host-uuid", "11111111-1111-1111-1111-111111111111", "-shared-vm", "vcsa:on"] });
  const hostB = await fx.start({ mode: "esx", args: [...common, "-host-name", "esx-b", "-host-uuid", "22222222-2222-2222-2222-222222222222"] });
  a = await fx.connect(hostA);
  b = await fx.connect(hostB);
});

afterAll(async () => {
  await fx.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("both hosts see the shared datastore under the same name and url", async () => {
  const [dsA] = await hostDatastores(a, await defaultHost(a)).then((l) => l.filter((d) => d.name === "shared-ds"));
  const [dsB] = await hostDatastores(b, await defaultHost(b)).then((l) => l.filter((d) => d.name === "shared-ds"));
  expect(dsA?.url).toMatch(/^ds:\/\/\/vmfs\/volumes\/.+\/$/);
  expect(dsB?.url).toBe(dsA!.url);
});

test("register on host B; FileLocked while A runs it; after A is gone, power-on answers 'I moved it'", async () => {
  const onA = await findVm(a, { by: "name", value: "vcsa" });
  expect(onA.powerState).toBe("poweredOn");

  const vm = await registerVm(b, { path: VMX, name: "vcsa", host: await defaultHost(b) });
  expect(str((await retrieveOne(b, vm, ["config.uuid"]))["config.uuid"])).toBe(onA.uuid!);

  const locked = await powerOnVm(b, vm, { timeoutMs: 20_000 }).catch((e) => e);
  expect(locked).toBeInstanceOf(TaskFailedError);
  expect((locked as TaskFailedError).faultType).toBe("FileLocked");

  await hostA.stop(); // host A shuts down and releases its vmx lock

  const questions: VmQuestion[] = [];
  await powerOnVm(b, vm, {
    timeoutMs: 30_000,
    onQuestion: (q) => {
      questions.push(q);
      return findChoice(q, /movedTheVM|moved it/i);
    },
  });
  expect(await getPowerState(b, vm)).toBe("poweredOn");
  expect(questions).toHaveLength(1);
  expect(questions[0]?.messageIds).toContain("msg.uuid.altered");
  expect(questions[0]?.choices.map((c) => c.label)).toEqual(["button.uuid.cancel", "button.uuid.movedTheVM", "button.uuid.copiedTheVM"]);
  // "I moved it" keeps the BIOS uuid.
  expect(str((await retrieveOne(b, vm, ["config.uuid"]))["config.uuid"])).toBe(onA.uuid!);
});
