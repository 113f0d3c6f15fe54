import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

test("an existing unit is kept unless --force", () => {
  const again = run(["--root", dir, "--binary", "/usr/local/bin/esxkit"]);
  expect(again.code).toBe(2);
  expect(again.err).toContain("--force");
  expect(run(["--root", dir, "--binary", "/opt/my esxkit/esxkit", "--force"]).code).toBe(0);
  const unit = readFileSync(join(dir, "etc/systemd/system/esxkit.service"), "utf8");
  expect(unit).toContain('ExecStart="/opt/my esxkit/esxkit" serve');
  expect(unit).toContain("DynamicUser=yes");
});
