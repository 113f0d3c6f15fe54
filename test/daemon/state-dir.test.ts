// An unwritable state_dir, as the unit's user meets it (setpriv with the sandbox read from
// packaging/esxkit.service): `config check` and `serve` refuse it by key path, and a BMC whose
// boot-restore note cannot be written answers ipmitool's `chassis bootdev pxe` with D5h
// ("not supported in present state", not FFh "unspecified") and logs the path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { freeUdpPort } from "../support/ipmi/peers.ts";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";
import { ESXKIT, readUnitSandbox, setprivArgs } from "../support/watchdog/sandbox.ts";

const root = join(import.meta.dir, "../..");
const unit = readUnitSandbox();
const PASSWORD = "state-dir-bmc-pass";
const dir = mkdtempSync(join(tmpdir(), "esxkit-statedir-"));
let sim: Vcsim;
let vm = "";

beforeAll(async () => {
  const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`npm run build failed: ${build.stderr.toString()}`);
  chmodSync(dir, 0o755);
  sim = await startVcsim({ mode: "vpx", args: ["-cluster", "0", "-host", "1", "-vm", "1"] });
  const client = await VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
  vm = (await listVms(client))[0]?.name ?? "";
  await client.close();
}, 300_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A config for one BMC; state_dir and control socket in `base`. */
function writeConfig(base: string, port: number): string {
  chmodSync(base, 0o755);
  mkdirSync(join(base, "run"), { recursive: true });
  chownSync(join(base, "run"), unit.uid, unit.gid);
  const file = join(base, "config.toml");
  writeFileSync(
    file,
    `[daemon]
state_dir = "${join(base, "state")}"
control_socket = "${join(base, "run/control.sock")}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:VC_PW"
thumbprint = "${sim.thumbprintSha256}"

[[bmc]]
vm = "${vm}"
address = "127.0.0.1"
port = ${port}
username = "admin"
password = "env:BMC_PW"
`,
    { mode: 0o644 },
  );
  return file;
}

const env = () => ({ PATH: process.env.PATH ?? "", NO_COLOR: "1", VC_PW: sim.password, BMC_PW: PASSWORD });
const asService = (argv: string[]) => Bun.spawnSync([...setprivArgs(unit), ESXKIT, ...argv], { env: env(), stdout: "pipe", stderr: "pipe" });

describe("state_dir the service user cannot write", () => {
  const base = join(dir, "refused");
  beforeAll(() => {
    mkdirSync(join(base, "state"), { recursive: true, mode: 0o700 }); // root's, 0700
  });

  test("config check fails, naming daemon.state_dir, the path, the user and EACCES", async () => {
    const file = writeConfig(base, await freeUdpPort());
    const r = asService(["config", "check", "-c", file]);
    expect(r.exitCode).toBe(1);
    const err = r.stderr.toString();
    expect(err).toContain("daemon.state_dir:");
    expect(err).toContain(`${join(base, "state")} is not writable by uid ${unit.uid} (EACCES, permission denied)`);
    // As root the same directory is fine: the check is about who runs it.
    expect(Bun.spawnSync([ESXKIT, "config", "check", "-c", file], { env: env() }).exitCode).toBe(0);
  });

  test("serve refuses to start", async () => {
    const file = writeConfig(base, await freeUdpPort());
    const r = asService(["serve", "-c", file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("daemon.state_dir:");
  });
});

describe("a BMC whose boot-restore note cannot be written", () => {
  const base = join(dir, "later");
  let proc: Subprocess<"ignore", "pipe", "pipe">;
  let log = "";
  let port = 0;

  beforeAll(async () => {
    mkdirSync(join(base, "state"), { recursive: true, mode: 0o700 });
    chownSync(join(base, "state"), unit.uid, unit.gid);
    port = await freeUdpPort();
    const file = writeConfig(base, port);
    proc = Bun.spawn([...setprivArgs(unit), ESXKIT, "serve", "-c", file], { env: env(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const dec = new TextDecoder();
    void (async () => {
      for await (const c of proc.stdout) log += dec.decode(c);
    })();
    void (async () => {
      for await (const c of proc.stderr) log += dec.decode(c);
    })();
    for (let i = 0; !log.includes("esxkit serving"); i++) {
      if (i > 300) throw new Error(`esxkit did not start:\n${log}`);
      await Bun.sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
  });

  const ipmitool = (...args: string[]) =>
    Bun.spawnSync(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(port), "-U", "admin", "-P", PASSWORD, "-N", "2", "-R", "2", ...args], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });

  test("chassis bootdev pxe answers D5h, not FFh; the log names the path; power control still works", async () => {
    // It worked while the directory was writable …
    expect(ipmitool("chassis", "power", "status").exitCode).toBe(0);
    expect(ipmitool("chassis", "bootdev", "pxe").exitCode).toBe(0);
    const boot = join(base, "state/bmc-boot");
    for (let i = 0; !existsSync(boot) || readdirSync(boot).length === 0; i++) {
      if (i > 100) throw new Error(`no boot-restore note was written:\n${log}`);
      await Bun.sleep(100);
    }
    // … then the directory becomes read-only for the service user (a remount, a chown by hand).
    for (const d of [join(base, "state"), boot]) chmodSync(d, 0o500);
    try {
      const r = ipmitool("chassis", "bootdev", "pxe");
      const out = r.stdout.toString() + r.stderr.toString();
      // ipmitool exits 0 from bootdev whatever the answer; it prints the completion code's text.
      expect(out).toContain("Set Chassis Boot Parameter 5 failed: Command not supported in present state");
      expect(out).not.toContain("Unspecified error");
      for (let i = 0; i < 50 && !log.includes("boot restore note cannot be written"); i++) await Bun.sleep(100);
      expect(log).toContain("the boot restore note cannot be written; boot order left unchanged");
      expect(log).toContain(join(base, "state/bmc-boot"));
      expect(log).toContain("(EACCES) [ESX_STATE_WRITE]");
      expect(ipmitool("chassis", "power", "status").stdout.toString()).toMatch(/Chassis Power is (on|off)/);
    } finally {
      for (const d of [join(base, "state"), boot]) chmodSync(d, 0o700);
    }
  });
});
