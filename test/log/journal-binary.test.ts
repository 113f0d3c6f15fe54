// `serve` through the compiled binary with stdout as systemd hands it to a service: a stream
// named by $JOURNAL_STREAM. With journald's native socket (here a stand-in listener on a
// private /run, in a mount namespace) every entry arrives there with a readable MESSAGE, the
// level as PRIORITY and each field as a journal field; without it, the stream gets
// `<N>[subsystem] message key=value` lines. Never a JSON blob, never a second timestamp.
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeUdpPort, root, until } from "../support/config/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Entry = Record<string, string>;

/**
 * Runs `serve` until it is serving, then SIGTERM. `socket`: a stand-in journald socket on a
 * private /run; `none`: a private /run without one; `redirected`: $JOURNAL_STREAM names another file.
 */
async function serveOnce(name: string, mode: "socket" | "none" | "redirected"): Promise<{ stdout: string[]; entries: Entry[] }> {
  const port = await freeUdpPort();
  const cfg = join(dir, `${name}.toml`);
  writeFileSync(cfg, `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${join(dir, `${name}.sock`)}"\n\n[[slp]]\nhost = "esxi-journal.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${port}\n`);
  const out = join(dir, `${name}.out`);
  const journal = join(dir, `${name}.journal`);
  const listenerPid = join(dir, `${name}.pid`);
  const fd = openSync(out, "w");
  const st = fstatSync(fd, { bigint: true });
  const serve = `exec ${buildBinary()} serve -c ${cfg}`;
  const script = [
    "set -e",
    "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal",
    mode === "socket"
      ? `/usr/bin/python3 ${join(root, "test/support/log/journal_listener.py")} /run/systemd/journal/socket ${journal} & echo $! > ${listenerPid}; ` +
        "for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done"
      : "true",
    serve,
  ].join("\n");
  const proc = Bun.spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], {
    env: { PATH: process.env.PATH ?? "", JOURNAL_STREAM: mode === "redirected" ? "1:1" : `${st.dev}:${st.ino}` },
    stdout: fd,
    stderr: "pipe",
  });
  const text = () => (existsSync(journal) ? readFileSync(journal, "utf8") : "") + readFileSync(out, "utf8");
  try {
    await until("esxkit serving", () => text().includes("esxkit serving"), 20_000);
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(0);
  closeSync(fd);
  if (existsSync(listenerPid)) process.kill(Number(readFileSync(listenerPid, "utf8")), "SIGTERM");
  const entries = existsSync(journal) ? (readFileSync(journal, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l)) as Entry[]) : [];
  const stdout = readFileSync(out, "utf8").trimEnd().split("\n").filter(Boolean);
  return { stdout, entries };
}

test("with journald's socket: a readable MESSAGE, PRIORITY, and every field as a journal field", async () => {
  const { stdout, entries } = await serveOnce("native", "socket");
  expect(stdout).toEqual([]);
  expect(entries.find((e) => "MALFORMED" in e)).toBeUndefined();
  const serving = entries.find((e) => e.MESSAGE?.startsWith("esxkit serving"));
  expect(serving).toEqual({ MESSAGE: 'esxkit serving status="0 BMC, 1 SLP, 0 watchdog"', PRIORITY: "6", SYSLOG_IDENTIFIER: "esxkit", STATUS: "0 BMC, 1 SLP, 0 watchdog" });
  const slp = entries.find((e) => e.SUBSYSTEM === "slp");
  expect(slp).toMatchObject({ PRIORITY: "6", SLP: "esxi-journal.example.local", TCP: "false", URLS: '["service:wbem:https://esxi-journal.example.local:5989"]' });
  expect(slp?.MESSAGE?.startsWith("[slp] SLP entry advertised slp=esxi-journal.example.local")).toBe(true);
  for (const e of entries) expect(JSON.stringify(e)).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
}, 60_000);

test("without the socket: `<N>[subsystem] message key=value` lines on the stream, no JSON, no timestamp", async () => {
  const { stdout } = await serveOnce("stream", "none");
  expect(stdout.length).toBeGreaterThan(3);
  for (const l of stdout) {
    expect(l).toMatch(/^<[3-7]>[^{<]/);
    expect(l).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
  }
  expect(stdout).toContain('<6>esxkit serving status="0 BMC, 1 SLP, 0 watchdog"');
  expect(stdout.find((l) => l.startsWith("<6>[slp] SLP entry advertised slp=esxi-journal.example.local"))).toBeDefined();
}, 60_000);

test("a $JOURNAL_STREAM that names another stream (output redirected to a file) keeps JSON lines", async () => {
  const { stdout, entries } = await serveOnce("redirected", "redirected");
  expect(entries).toEqual([]);
  for (const l of stdout) expect(() => JSON.parse(l)).not.toThrow();
  expect(JSON.parse(stdout[0] as string).time).toMatch(/^\d{4}-/);
}, 60_000);
