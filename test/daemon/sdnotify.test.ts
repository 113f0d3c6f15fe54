// sd_notify through bun:ffi, received by a real AF_UNIX datagram listener (Python's socket module).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monotonicUsec, sdNotify } from "../../src/daemon/sdnotify.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-notify-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(path: string) {
  const proc = Bun.spawn(["/usr/bin/python3", join(import.meta.dir, "../support/daemon/notify_listener.py"), path, "2"], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let buf = "";
  const lines: string[] = [];
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += new TextDecoder().decode(value);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
  })();
  for (let i = 0; i < 100 && !lines.includes("ready"); i++) await Bun.sleep(50);
  expect(lines).toContain("ready");
  return { lines, proc, done: () => Promise.race([pump, Bun.sleep(5000)]) };
}

test.each([["path", join(dir, "notify.sock")], ["abstract", `@esxkit-test-${process.pid}`]])("READY/STATUS/STOPPING reach a %s socket", async (_kind, path) => {
  const l = await listen(path);
  expect(sdNotify("READY=1\nSTATUS=2 BMC, 1 SLP, 0 watchdog", path)).toBe(true);
  expect(sdNotify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`, path)).toBe(true);
  expect(sdNotify("STOPPING=1", path)).toBe(true);
  for (let i = 0; i < 100 && l.lines.length < 4; i++) await Bun.sleep(50);
  l.proc.kill();
  await l.done();
  const got = l.lines.filter((x) => x !== "ready").map((x) => JSON.parse(x) as string);
  expect(got[0]).toBe("READY=1\nSTATUS=2 BMC, 1 SLP, 0 watchdog");
  expect(got[1]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
  expect(got[2]).toBe("STOPPING=1");
});

test("without $NOTIFY_SOCKET nothing is sent and nothing fails", () => {
  expect(sdNotify("READY=1", undefined)).toBe(false);
});

test("a missing socket is an error, not a silent success", () => {
  expect(() => sdNotify("READY=1", join(dir, "nobody-listens.sock"))).toThrow(/sendto/);
});

test("MONOTONIC_USEC is CLOCK_MONOTONIC, not time since process start", () => {
  // Bun's hrtime starts near 0 at process start; CLOCK_MONOTONIC counts from boot.
  const bootUs = Number(monotonicUsec());
  const sinceStartUs = Number(process.hrtime.bigint() / 1000n);
  expect(bootUs).toBeGreaterThan(sinceStartUs);
});
