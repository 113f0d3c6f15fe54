// Virtual media on vSphere VMs against the govmomi simulator (with test/vcsim/folder.go: /folder
// session check, DELETE, honest PUT status, counters): the image's bytes land on the datastore,
// the CD-ROM points at them, the same URL is shared between VMs and transferred once, eject
// deletes the file with its last user, foreign media is left alone, and failing image URLs
// give coded errors promptly and leave nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createVsphereMedia, IMAGE_KEY, type VsphereMedia } from "../../src/bmc/vsphere-media.ts";
import { errorCode } from "../../src/errors.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { metrics } from "../../src/log/metrics.ts";
import { readCdromConfig, reconfigDevices, type Cdrom } from "../../src/vsphere/cdrom.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { str } from "../../src/vsphere/convert.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import { powerOffVm } from "../../src/vsphere/vm.ts";
import { IMAGE_PASSWORD, IMAGE_USER, imageSha256, type ImageServer, startImageServer } from "../support/bmc/image-server.ts";
import { startVsphereBmcFixture, type VsphereBmcFixture } from "../support/bmc/vsphere.ts";

let fx: VsphereBmcFixture;
let c: VimClient;
let vms: VmIdentity[];
let img: ImageServer;
let dsDir: string;
let originalBacking: Cdrom["backing"];

beforeAll(async () => {
  fx = await startVsphereBmcFixture({ args: ["-vm", "5", "-host", "1", "-standalone-host", "0"] });
  c = await fx.pool.get("vc1");
  vms = (await listVms(c)).sort((a, b) => a.name.localeCompare(b.name));
  img = await startImageServer();
  const ds = await retrieveProperties(c, { type: "Datastore", paths: ["name", "summary.url"] });
  dsDir = str(ds.find((d) => d.props.name === "LocalDS_0")?.props["summary.url"]) ?? "";
  expect(existsSync(dsDir)).toBe(true);
  originalBacking = (await cdroms(vms[0]!))[0]!.backing;
  expect(originalBacking.kind).toBe("host");
});
afterAll(async () => {
  await img?.stop();
  await fx?.cleanup();
});

function media(vm: VmIdentity, over: Partial<Parameters<typeof createVsphereMedia>[1]> = {}): VsphereMedia {
  const b = fx.backend({ by: "name", value: vm.name });
  return createVsphereMedia(b, { bmcName: vm.name, logger: silentLogger, connectTimeoutMs: 1500, idleTimeoutMs: 1500, taskTimeoutMs: 10_000, ...over });
}

async function cdroms(vm: VmIdentity): Promise<Cdrom[]> {
  return (await readCdromConfig(c, vm.ref)).cdroms;
}

function mediaFiles(): string[] {
  const dir = join(dsDir, "esxkit-media");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function fileOf(cd: Cdrom | undefined): string {
  if (cd?.backing.kind !== "iso") throw new Error(`not an ISO backing: ${JSON.stringify(cd?.backing)}`);
  return cd.backing.fileName;
}

function localPath(dsPath: string): string {
  return join(dsDir, dsPath.replace(/^\[LocalDS_0\]\s*/, ""));
}

async function folderCounters(): Promise<{ puts: number; putBytes: number; unauthorized: number }> {
  return (await fx.sim.control({ cmd: "folder" })).folder as { puts: number; putBytes: number; unauthorized: number };
}

/** RetrievePropertiesEx requests the fixture's vCenter answered so far. */
function retrieveRequests(): number {
  const line = metrics.render().split("\n").find((l) => l.startsWith('esxkit_vcenter_request_seconds_count{endpoint="vc1",method="RetrievePropertiesEx"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

const SIZE = 3 * 1024 * 1024 + 12345;

describe("insert and eject", () => {
  test("the image's bytes land on the VM's datastore and the CD-ROM points at them, connected", async () => {
    const m = media(vms[0]!);
    const before = await folderCounters();
    const url = `${img.base.replace("http://", `http://${IMAGE_USER}:${IMAGE_PASSWORD}@`)}/auth/rhcos?size=${SIZE}`;
    await m.insert("cd", url);
    const [cd] = await cdroms(vms[0]!);
    const file = fileOf(cd);
    expect(file).toMatch(/^\[LocalDS_0\] esxkit-media\/[0-9a-f]{20}\.iso$/);
    expect(cd!.connected).toBe(true);
    expect(cd!.startConnected).toBe(true);
    const bytes = readFileSync(localPath(file));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(imageSha256("rhcos", SIZE));
    const s = m.state("cd");
    expect(s).toMatchObject({ slot: "cd", inserted: true, connected: true, image: `${img.base}/auth/rhcos?size=${SIZE}` });
    expect(JSON.stringify(s)).not.toContain(IMAGE_PASSWORD);
    expect(s.transfer).toMatchObject({ state: "done", bytes: SIZE, total: SIZE });
    expect((await readCdromConfig(c, vms[0]!.ref)).extraConfig[IMAGE_KEY]).toBe(s.image!);
    const after = await folderCounters();
    expect(after.puts - before.puts).toBe(1);
    expect(after.putBytes - before.putBytes).toBe(SIZE);
    expect(mediaFiles()).toEqual([file.split("/").pop()!]);
  });

  test("the same URL into a second VM transfers 0 bytes and shares the file; eject keeps it while the other VM uses it", async () => {
    const url = `${img.base}/auth/rhcos?size=${SIZE}`;
    const m1 = media(vms[1]!);
    const before = await folderCounters();
    await m1.insert("cd", url, { username: IMAGE_USER, password: IMAGE_PASSWORD });
    expect((await folderCounters()).putBytes).toBe(before.putBytes);
    expect(m1.state("cd").transfer).toMatchObject({ state: "done", bytes: 0, reused: true });
    const f0 = fileOf((await cdroms(vms[0]!))[0]);
    const f1 = fileOf((await cdroms(vms[1]!))[0]);
    expect(f1).toBe(f0);

    const m0 = media(vms[0]!);
    await m0.refresh();
    expect(m0.state("cd").inserted).toBe(true);
    await m0.eject("cd");
    // The model's drive was a host device: it gets that backing back.
    const [cd0] = await cdroms(vms[0]!);
    expect(cd0!.backing).toEqual(originalBacking);
    expect(m0.state("cd")).toMatchObject({ inserted: false, connected: false });
    expect(m0.state("cd").transfer).toBeUndefined();
    expect(existsSync(localPath(f0))).toBe(true);

    await m1.eject("cd");
    expect(m1.state("cd").transfer).toBeUndefined();
    expect(existsSync(localPath(f0))).toBe(false);
    expect(mediaFiles()).toEqual([]);
    await m1.eject("cd"); // idempotent
  });

  test("concurrent inserts of one URL into two VMs wait for one transfer", async () => {
    const url = `${img.base}/img/agent?size=${SIZE}`;
    const a = media(vms[2]!);
    const b = media(vms[3]!);
    const before = await folderCounters();
    await Promise.all([a.insert("cd", url), b.insert("cd", url)]);
    const after = await folderCounters();
    expect(after.puts - before.puts).toBe(1);
    expect(after.putBytes - before.putBytes).toBe(SIZE);
    expect(fileOf((await cdroms(vms[2]!))[0])).toBe(fileOf((await cdroms(vms[3]!))[0]));
    await a.eject("cd");
    await b.eject("cd");
    expect(mediaFiles()).toEqual([]);
  });

  test("inserting while another image is inserted is refused (MEDIA_BUSY); the same one again is a no-op", async () => {
    const m = media(vms[2]!);
    await m.insert("cd", `${img.base}/img/one?size=1000`);
    await m.insert("cd", `${img.base}/img/one?size=1000`);
    const err = await m.insert("cd", `${img.base}/img/two?size=1000`).catch((e) => e);
    expect(errorCode(err)).toBe("ESX_MEDIA_BUSY");
    await m.eject("cd");
    expect(mediaFiles()).toEqual([]);
  });

  test("a VM without a CD-ROM gets one (on a free IDE slot)", async () => {
    const vm = vms[4]!;
    const [cd] = await cdroms(vm);
    await reconfigDevices(c, vm.ref, [{ $type: "VirtualDeviceConfigSpec", operation: "remove", device: { $type: "VirtualCdrom", key: cd!.key, controllerKey: cd!.controllerKey, unitNumber: cd!.unitNumber ?? 0 } }], {}, 10_000);
    expect(await cdroms(vm)).toEqual([]);
    const m = media(vm);
    await m.insert("cd", `${img.base}/img/fresh?size=2000`);
    const after = await cdroms(vm);
    expect(after.length).toBe(1);
    expect(fileOf(after[0])).toMatch(/esxkit-media\//);
    expect(after[0]!.startConnected).toBe(true);
    await m.eject("cd");
  });

  test.each([
    ["an ISO", { $type: "VirtualCdromIsoBackingInfo", fileName: "[LocalDS_0] isos/customer.iso" }, { kind: "iso", fileName: "[LocalDS_0] isos/customer.iso" }],
    ["a remote console's connected client drive", { $type: "VirtualCdromRemotePassthroughBackingInfo", deviceName: "", useAutoDetect: false, exclusive: false }, { kind: "client", deviceName: "" }],
  ])("foreign media (%s) is never clobbered: MEDIA_FOREIGN, backing unchanged", async (_name, backing, parsed) => {
    const vm = vms[3]!;
    const [cd] = await cdroms(vm);
    const foreign = { $type: "VirtualDeviceConfigSpec", operation: "edit", device: { $type: "VirtualCdrom", key: cd!.key, deviceInfo: { $type: "Description", label: cd!.label, summary: "x" }, backing, connectable: { $type: "VirtualDeviceConnectInfo", startConnected: true, allowGuestControl: true, connected: true }, controllerKey: cd!.controllerKey, unitNumber: cd!.unitNumber ?? 0 } };
    await reconfigDevices(c, vm.ref, [foreign], {}, 10_000);
    const m = media(vm);
    const err = await m.insert("cd", `${img.base}/img/nope?size=1000`).catch((e) => e);
    expect(errorCode(err)).toBe("ESX_MEDIA_FOREIGN");
    expect((await cdroms(vm))[0]!.backing).toEqual(parsed as Cdrom["backing"]);
    expect(m.state("cd").inserted).toBe(false);
    await m.eject("cd"); // not ours: left alone
    expect((await cdroms(vm))[0]!.backing).toEqual(parsed as Cdrom["backing"]);
    expect(mediaFiles()).toEqual([]);
  });

  test("only the cd slot exists", async () => {
    const m = media(vms[2]!);
    expect(m.slots()).toEqual(["cd"]);
    expect(errorCode(await m.insert("removable", `${img.base}/img/x`).catch((e) => e))).toBe("ESX_MEDIA_SLOT");
  });
});

describe("failing image URLs: coded errors, promptly, nothing left behind", () => {
  const cases: [string, () => string, string, string | undefined][] = [
    ["HTTP 404", () => `${img.base}/status/404`, "http_status", undefined],
    ["basic auth refused (401), credentials never echoed", () => `${img.base.replace("http://", "http://img:wrong-pass@")}/auth/x`, "http_status", "wrong-pass"],
    ["connection refused", () => `http://127.0.0.1:${closedPort}/img/x`, "connect", undefined],
    ["never answers", () => `${img.base}/never`, "timeout", undefined],
    ["sends part of the image, then goes silent", () => `${img.base}/stall?size=${SIZE}&after=200000`, "idle", undefined],
  ];
  let closedPort = 0;
  beforeAll(() => {
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    closedPort = s.port ?? 0;
    s.stop(true);
  });
  for (const [name, url, reason, secret] of cases) {
    test(name, async () => {
      const vm = vms[2]!;
      const m = media(vm);
      const before = await cdroms(vm);
      const started = Date.now();
      const err = await m.insert("cd", url()).catch((e) => e);
      expect(errorCode(err)).toBe("ESX_MEDIA_SOURCE");
      expect(err.reason).toBe(reason);
      if (secret) expect(err.message).not.toContain(secret);
      expect(Date.now() - started).toBeLessThan(8000);
      expect(m.state("cd")).toMatchObject({ inserted: false, connected: false, transfer: { state: "failed" } });
      if (secret) expect(JSON.stringify(m.state("cd"))).not.toContain(secret);
      expect(await cdroms(vm)).toEqual(before);
      expect(mediaFiles()).toEqual([]);
    });
  }

  test("a malformed or non-http URL is MEDIA_URL", async () => {
    const m = media(vms[2]!);
    expect(errorCode(await m.insert("cd", "ftp://127.0.0.1/x.iso").catch((e) => e))).toBe("ESX_MEDIA_URL");
    expect(errorCode(await m.insert("cd", "not a url").catch((e) => e))).toBe("ESX_MEDIA_URL");
  });

  test("a media_datastore that does not exist is MEDIA_DATASTORE", async () => {
    const m = media(vms[2]!, { mediaDatastore: "NoSuchDS" });
    expect(errorCode(await m.insert("cd", `${img.base}/img/x?size=100`).catch((e) => e))).toBe("ESX_MEDIA_DATASTORE");
    // A front end that does not await insert() still sees why it failed.
    expect(m.state("cd")).toMatchObject({ inserted: false, transfer: { state: "failed", bytes: 0 } });
    expect(m.state("cd").transfer?.error).toContain("NoSuchDS");
  });
});

describe("the datastore side failing", () => {
  test("vCenter paused mid-upload: MEDIA_DATASTORE once the upload stops moving, the CD-ROM untouched, no image in use", async () => {
    const vm = vms[2]!;
    const m = media(vm);
    const before = await cdroms(vm);
    const started = Date.now();
    const pending = m.insert("cd", `${img.base}/img/big?size=${256 * 1024 * 1024}`).catch((e) => e);
    while ((m.state("cd").transfer?.bytes ?? 0) < 8 * 1024 * 1024 && Date.now() - started < 20_000) await Bun.sleep(5);
    fx.sim.proc.kill("SIGSTOP");
    let err: unknown;
    try {
      err = await pending;
    } finally {
      fx.sim.proc.kill("SIGCONT");
    }
    expect(errorCode(err)).toBe("ESX_MEDIA_DATASTORE");
    expect((err as Error).message).toMatch(/datastore took no data|no answer/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(m.state("cd")).toMatchObject({ inserted: false, connected: false, transfer: { state: "failed" } });
    expect(await cdroms(vm)).toEqual(before);
    // At most the partial upload is left (its delete ran into the pause); never a final image.
    expect(mediaFiles().filter((f) => f.endsWith(".iso"))).toEqual([]);
    for (const f of mediaFiles()) rmSync(join(dsDir, "esxkit-media", f));
  }, 30_000);
});

describe("vSphere quirks and restarts", () => {
  test("vSphere 8.0U2 refuses a backing change while powered on: eject disconnects the ISO instead, and still deletes the file", async () => {
    const vm = vms[2]!;
    const m = media(vm);
    await m.insert("cd", `${img.base}/img/u2?size=5000`);
    const file = fileOf((await cdroms(vm))[0]);
    await fx.sim.control({ cmd: "quirks", cdromEjectNeedsPowerOff: true });
    try {
      await m.eject("cd");
    } finally {
      await fx.sim.control({ cmd: "quirks", cdromEjectNeedsPowerOff: false });
    }
    const [cd] = await cdroms(vm);
    expect(cd!.backing.kind).toBe("iso");
    expect(cd!.connected).toBe(false);
    expect(cd!.startConnected).toBe(false);
    expect(m.state("cd").inserted).toBe(false);
    expect(existsSync(localPath(file))).toBe(false);
    // The disconnected esxkit drive is reused by the next insert.
    await m.insert("cd", `${img.base}/img/u2b?size=5000`);
    expect((await cdroms(vm)).length).toBe(1);
    await m.eject("cd");
  });

  test("a new instance (a restart) reads what is inserted from the VM; a powered-off VM is start-connected", async () => {
    const vm = vms[1]!;
    await powerOffVm(c, vm.ref);
    const url = `${img.base}/img/restart?size=7000`;
    await media(vm).insert("cd", url);
    const [cd] = await cdroms(vm);
    expect(cd!.startConnected).toBe(true);
    const again = media(vm);
    expect(await again.refresh()).toMatchObject({ inserted: true, connected: true, image: url });
    await again.eject("cd");
    expect(mediaFiles()).toEqual([]);
  });

  test("BMCs starting together read their VMs' CD-ROMs in one request, each state its own VM's", async () => {
    const vm = vms[0]!;
    const url = `${img.base}/img/together?size=6000`;
    await media(vm).insert("cd", url);
    const backends = vms.map((v) => fx.backend({ by: "name", value: v.name }, { name: `together-${v.name}` }));
    await Promise.all(backends.map((b) => b.vmLink.withVm("found", async () => undefined)));
    const before = retrieveRequests();
    // Each instance reads at start, and refresh() reads again: 2 × 5 reads.
    const all = backends.map((b, i) => createVsphereMedia(b, { bmcName: `together-${vms[i]!.name}`, logger: silentLogger }));
    const states = await Promise.all(all.map((m) => m.refresh()));
    expect(retrieveRequests() - before).toBe(1);
    expect(states.map((s) => s.inserted)).toEqual(vms.map((v) => v === vm));
    expect(states[0]).toMatchObject({ inserted: true, connected: true, image: url });
    await all[0]!.eject("cd");
    expect(mediaFiles()).toEqual([]);
  });

  test("every /folder request carried the session cookie (the simulator refuses one without)", async () => {
    expect((await folderCounters()).unauthorized).toBe(0);
    const origin = new URL(fx.sim.url).origin;
    const res = await fetch(`${origin}/folder/esxkit-media?dcPath=DC0&dsName=LocalDS_0`, { method: "HEAD", tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.status).toBe(401);
    expect((await folderCounters()).unauthorized).toBe(1);
  });
});
