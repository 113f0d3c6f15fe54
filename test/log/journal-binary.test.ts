// `serve` through the compiled binary with stdout as systemd hands it to a service: a stream
// named by $JOURNAL_STREAM. journald's stream protocol reads one entry per line, `<N>` as the
// priority and the rest as MESSAGE: each must be readable, with no second timestamp.
import { afterAll, expect, test } from "bun:test";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeUdpPort } from "../support/config/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function serveOnce(name: string, journalStream: (fd: number) => string): Promise<string[]> {
  const port = await freeUdpPort();
  const cfg = join(dir, `${name}.toml`);
  writeFileSync(cfg, `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${join(dir, `${name}.sock`)}"\n\n[[slp]]\nhost = "esxi-journal.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${port}\n`);
  const out = join(dir, `${name}.out`);
  const fd = openSync(out, "w");
  const proc = Bun.spawn([buildBinary(), "serve", "-c", cfg], { env: { PATH: process.env.PATH ?? "", JOURNAL_STREAM: journalStream(fd) }, stdout: fd, stderr: "pipe" });
  const end = Date.now() + 20_000;
  while (!readFileSync(out, "utf8").includes("esxkit serving") && Date.now() < end) await Bun.sleep(50);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  closeSync(fd);
  return readFileSync(out, "utf8").trimEnd().split("\n");
}

test("under journald: `<N>[subsystem] message key=value`, no JSON, no timestamp", async () => {
  const lines = await serveOnce("journal", (fd) => {
    const st = fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  });
  expect(lines.length).toBeGreaterThan(3);
  for (const l of lines) {
    expect(l).toMatch(/^<[3-7]>[^{<]/);
    expect(l).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
  }
  expect(lines).toContain("<6>esxkit serving status=\"0 BMC, 1 SLP, 0 watchdog\"");
  expect(lines.find((l) => l.startsWith("<6>[slp] SLP entry advertised slp=esxi-journal.example.local"))).toBeDefined();
});

test("a $JOURNAL_STREAM that names another stream (output redirected to a file) keeps JSON lines", async () => {
  const lines = await serveOnce("redirected", () => "1:1");
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  expect(JSON.parse(lines[0] as string).time).toMatch(/^\d{4}-/);
});
