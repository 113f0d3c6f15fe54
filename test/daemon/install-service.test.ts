import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../support/config/binary.ts";

const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "esxkit-install-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const p = Bun.spawnSync([join(root, "node_modules/.bin/bun"), join(root, "src/main.ts"), "install-service", ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Parses a unit file into section → key → values (keys may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      current = new Map();
      sections.set(sec[1] as string, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit-file line: ${raw}`);
    current.set(kv[1] as string, [...(current.get(kv[1] as string) ?? []), kv[2] as string]);
  }
  return sections;
}

test("install-service writes a notify unit with capabilities, credentials and JIT-safe hardening", () => {
  const r = run(["--root", dir, "--binary", "/usr/local/bin/esxkit", "--user", "esxkit"]);
  expect(r.code).toBe(0);
  const unit = parseUnit(readFileSync(join(dir, "etc/systemd/system/esxkit.service"), "utf8"));
  const svc = unit.get("Service");
  expect(svc?.get("Type")).toEqual(["notify"]);
  expect(svc?.get("ExecStart")).toEqual(["/usr/local/bin/esxkit serve -c /etc/esxkit/config.toml"]);
  expect(svc?.get("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
  expect(svc?.get("AmbientCapabilities")).toEqual(["CAP_NET_BIND_SERVICE CAP_NET_RAW"]);
  expect(svc?.get("User")).toEqual(["esxkit"]);
  expect(svc?.has("WatchdogSec")).toBe(true);
  expect(svc?.has("MemoryDenyWriteExecute")).toBe(false);
  expect(unit.get("Install")?.get("WantedBy")).toEqual(["multi-user.target"]);
  // The skeleton config is valid as written.
  const cfg = join(dir, "etc/esxkit/config.toml");
  expect(statSync(cfg).mode & 0o777).toBe(0o644);
  expect(svc?.has("DynamicUser")).toBe(false);
  const check = Bun.spawnSync([join(root, "node_modules/.bin/bun"), join(root, "src/main.ts"), "config", "check", "-c", cfg]);
  expect(check.stderr.toString()).toBe("");
  expect(check.exitCode).toBe(0);
});

test("an existing unit is kept unless --force (exit 1, not the usage code); the same unit again is fine", () => {
  const same = run(["--root", dir, "--binary", "/usr/local/bin/esxkit", "--user", "esxkit"]);
  expect(same.code).toBe(0);
  expect(same.out).toContain("already up to date");
  const again = run(["--root", dir, "--binary", "/usr/local/bin/esxkit"]);
  expect(again.code).toBe(1);
  expect(again.err).toContain("exists and differs");
  expect(again.err).toContain("--force");
  expect(again.err).toContain("[ESX_INSTALL]");
  expect(run(["--root", dir, "--binary", "/opt/my esxkit/esxkit", "--force"]).code).toBe(0);
  const unit = readFileSync(join(dir, "etc/systemd/system/esxkit.service"), "utf8");
  expect(unit).toContain('ExecStart="/opt/my esxkit/esxkit" serve');
  expect(unit).toContain("DynamicUser=yes");
});

// Through the compiled binary, as a user runs it from wherever they downloaded it.
describe("a binary the unit could not see", () => {
  const bin = buildBinary();
  const hiddenDir = mkdtempSync(join(tmpdir(), "esxkit-hidden-"));
  const copy = join(hiddenDir, "esxkit");
  copyFileSync(bin, copy);
  chmodSync(copy, 0o755);
  afterAll(() => rmSync(hiddenDir, { recursive: true, force: true }));

  function installed(args: string[]) {
    const p = Bun.spawnSync([copy, "install-service", ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  }

  test.each([
    ["/tmp/esxkit", "/tmp", "PrivateTmp=yes"],
    ["/var/tmp/x/esxkit", "/var/tmp", "PrivateTmp=yes"],
    ["/home/alice/esxkit", "/home", "ProtectHome=yes"],
    ["/root/esxkit", "/root", "ProtectHome=yes"],
    ["/run/user/1000/esxkit", "/run/user", "ProtectHome=yes"],
  ])("--binary %s is refused (exit 1): %s is hidden by %s", (path, under, by) => {
    const root = mkdtempSync(join(dir, "hidden-"));
    const r = installed(["--root", root, "--binary", path]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path} is under ${under}, which the unit's ${by} hides from the service`);
    expect(r.err).toContain("--copy-binary");
    expect(existsSync(join(root, "etc/systemd/system/esxkit.service"))).toBe(false);
  });

  test("this executable under /tmp is refused by default, and installed as /usr/local/bin/esxkit with --copy-binary", () => {
    const root = mkdtempSync(join(dir, "copy-"));
    const refused = installed(["--root", root]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`${copy} is under /tmp`);
    const r = installed(["--root", root, "--copy-binary"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const target = join(root, "usr/local/bin/esxkit");
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(statSync(target).size).toBe(statSync(copy).size);
    const unit = parseUnit(readFileSync(join(root, "etc/systemd/system/esxkit.service"), "utf8"));
    expect(unit.get("Service")?.get("ExecStart")).toEqual(["/usr/local/bin/esxkit serve -c /etc/esxkit/config.toml"]);
    const v = Bun.spawnSync([target, "version"]);
    expect(v.stdout.toString()).toMatch(/^esxkit \d/);
  });

  test("--copy-binary replaces a running binary, where cp fails with Text file busy", async () => {
    const root = mkdtempSync(join(dir, "busy-"));
    expect(installed(["--root", root, "--copy-binary"]).code).toBe(0);
    const target = join(root, "usr/local/bin/esxkit");
    // The installed binary runs: an SLP query to a loopback socket that never answers.
    const silent = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const running = Bun.spawn([target, "slp", "find", "--unicast", "127.0.0.1", "--port", String(silent.port), "--timeout", "5000"], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(500);
    expect(running.exitCode).toBeNull();
    const cp = Bun.spawnSync(["cp", copy, target], { stderr: "pipe" });
    expect(cp.exitCode).not.toBe(0);
    expect(cp.stderr.toString()).toContain("Text file busy");
    const r = installed(["--root", root, "--copy-binary"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`installed ${copy} as ${target}`);
    expect(running.exitCode).toBeNull(); // the old process keeps its (now unlinked) file
    running.kill();
    await running.exited;
    silent.close();
  }, 30_000);
});
