// `esxkit vm media insert|status|eject` through the compiled binary (dist/esxkit) against the
// simulator, with a real config file: the image ends up on the datastore and in the CD-ROM,
// a second VM shares it, status reads it back from vSphere, eject removes it with its last
// user, and a failing URL or unknown VM exits 1 with a message naming what was wrong.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCdromConfig } from "../../src/vsphere/cdrom.ts";
import type { VimClient } from "../../src/vsphere/client.ts";
import { str } from "../../src/vsphere/convert.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { listVms, type VmIdentity } from "../../src/vsphere/search.ts";
import { IMAGE_PASSWORD, IMAGE_USER, imageSha256, type ImageServer, startImageServer } from "../support/bmc/image-server.ts";
import { SimFixture, type Vcsim } from "../support/vsphere/sim.ts";

const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");
const fx = new SimFixture();
let sim: Vcsim;
let c: VimClient;
let vms: VmIdentity[];
let img: ImageServer;
let dir: string;
let configFile: string;
let dsDir: string;

beforeAll(async () => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root });
  expect(build.exitCode).toBe(0);
  sim = await fx.start({ args: ["-vm", "2", "-host", "1", "-standalone-host", "0"] });
  c = await fx.connect(sim);
  vms = (await listVms(c)).sort((a, b) => a.name.localeCompare(b.name));
  img = await startImageServer();
  dir = mkdtempSync(join(tmpdir(), "esxkit-media-cli-"));
  configFile = join(dir, "config.toml");
  writeFileSync(configFile, `[vcenter.lab]\nurl = "${sim.url}"\nusername = "user"\npassword = "env:MEDIA_VC_PW"\nthumbprint = "${sim.thumbprintSha256}"\n`, { mode: 0o600 });
  const ds = await retrieveProperties(c, { type: "Datastore", paths: ["name", "summary.url"] });
  dsDir = str(ds.find((d) => d.props.name === "LocalDS_0")?.props["summary.url"]) ?? "";
}, 120_000);

afterAll(async () => {
  await img?.stop();
  await fx.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function esxkit(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([binary, ...argv], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", MEDIA_VC_PW: sim.password, IMG_PW: IMAGE_PASSWORD },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, out, err };
}

const SIZE = 2 * 1024 * 1024 + 7;

describe("esxkit vm media", () => {
  test("insert: the image is on the datastore and in the CD-ROM; credentials come from env: and are never printed", async () => {
    const url = `${img.base}/auth/cli?size=${SIZE}`;
    const r = await esxkit("vm", "media", "insert", vms[0]!.name, url, "--image-user", IMAGE_USER, "--image-password", "env:IMG_PW", "-c", configFile, "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ vm: vms[0]!.name, inserted: true, connected: true, image: url, transfer: { state: "done", bytes: SIZE, total: SIZE } });
    expect(r.out + r.err).not.toContain(IMAGE_PASSWORD);
    const [cd] = (await readCdromConfig(c, vms[0]!.ref)).cdroms;
    expect(cd?.backing.kind).toBe("iso");
    const file = cd?.backing.kind === "iso" ? cd.backing.fileName : "";
    const bytes = readFileSync(join(dsDir, file.replace(/^\[LocalDS_0\]\s*/, "")));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(imageSha256("cli", SIZE));
  });

  test("insert of the same URL into a second VM, with --datastore: 0 bytes transferred", async () => {
    const url = `${img.base}/auth/cli?size=${SIZE}`;
    const r = await esxkit("vm", "media", "insert", vms[1]!.name, url, "--datastore", "LocalDS_0", "--image-user", IMAGE_USER, "--image-password", "env:IMG_PW", "-c", configFile);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${vms[1]!.name}: ${url}, connected; transfer done (already on the datastore): 0.0 MB`);
  });

  test("status reads what is inserted back from vSphere", async () => {
    const r = await esxkit("vm", "media", "status", vms[1]!.name, "-c", configFile, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ inserted: true, connected: true, image: `${img.base}/auth/cli?size=${SIZE}` });
  });

  test("eject: the file stays while the other VM uses it, and goes with the last eject", async () => {
    expect((await esxkit("vm", "media", "eject", vms[0]!.name, "-c", configFile)).out).toContain("no media");
    expect(readdirSync(join(dsDir, "esxkit-media")).length).toBe(1);
    const r = await esxkit("vm", "media", "eject", vms[1]!.name, "-c", configFile);
    expect(r.code).toBe(0);
    expect(readdirSync(join(dsDir, "esxkit-media"))).toEqual([]);
    expect((await esxkit("vm", "media", "status", vms[1]!.name, "-c", configFile)).out).toBe(`${vms[1]!.name}: no media\n`);
  });

  test.each([
    ["a URL answering 404", () => [vms[0]!.name, `${img.base}/status/404`], /ESX_MEDIA_SOURCE|HTTP 404/],
    ["an unsupported scheme", () => [vms[0]!.name, "ftp://127.0.0.1/x.iso"], /scheme ftp is not supported/],
    ["an unknown VM", () => ["no-such-vm", `${img.base}/img/x`], /no-such-vm/],
  ])("%s: exit 1 with a message", async (_name, argv, message) => {
    const r = await esxkit("vm", "media", "insert", ...argv(), "-c", configFile);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(existsSync(join(dsDir, "esxkit-media")) ? readdirSync(join(dsDir, "esxkit-media")) : []).toEqual([]);
  });
});
