import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendJournal, readJournal } from "../../src/watchdog/journal.ts";
import { clearPause, globalPauseFile, pauseFile, readPause, writePause } from "../../src/watchdog/pause.ts";
import { freshState, loadState, saveState, statePath } from "../../src/watchdog/persist.ts";
import { watchdogDir, writeJsonDurably } from "../../src/watchdog/store.ts";

const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "esxkit-wd-unit-"));
  dirs.push(d);
  mkdirSync(watchdogDir(d), { recursive: true });
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T = Date.parse("2026-11-21T10:00:00Z");

describe("pause files", () => {
  test.each<[string, string, number | undefined, string | undefined, boolean]>([
    ["empty file: until removed", "", undefined, undefined, false],
    ["JSON with a future until", JSON.stringify({ until: "2026-11-21T12:00:00Z", reason: "patching" }), Date.parse("2026-11-21T12:00:00Z"), "patching", false],
    ["JSON with until null", JSON.stringify({ until: null }), undefined, undefined, false],
    ["garbage still pauses", "pause please", undefined, undefined, true],
    ["a bad date still pauses", JSON.stringify({ until: "tomorrow-ish" }), undefined, undefined, true],
  ])("%s", (_n, content, until, reason, malformed) => {
    const d = stateDir();
    writeFileSync(pauseFile(d, "mgmt"), content);
    const p = readPause(d, "mgmt", T);
    expect([p.paused, p.until, p.reason, p.malformed ?? false]).toEqual([true, until, reason, malformed]);
  });

  test("an expired pause file is removed and reported", () => {
    const d = stateDir();
    writeFileSync(globalPauseFile(d), JSON.stringify({ until: "2026-11-21T09:00:00Z" }));
    const expired: string[] = [];
    expect(readPause(d, "mgmt", T, (f) => expired.push(f))).toEqual({ paused: false });
    expect(expired).toEqual([globalPauseFile(d)]);
    expect(existsSync(globalPauseFile(d))).toBe(false);
  });

  test("the global file pauses every watchdog; the own file wins", () => {
    const d = stateDir();
    writePause(d, undefined, T, undefined, "all");
    expect(readPause(d, "a", T).reason).toBe("all");
    writePause(d, "a", T, 60_000, "just a");
    expect(readPause(d, "a", T)).toMatchObject({ reason: "just a", until: T + 60_000 });
    expect(readPause(d, "b", T).reason).toBe("all");
    clearPause(d, "a");
    clearPause(d, undefined);
    expect(readPause(d, "a", T).paused).toBe(false);
  });

  test("names that are not file-safe stay inside the state directory", () => {
    const d = stateDir();
    writePause(d, "../../etc/x", T, 1000);
    expect(readdirSync(watchdogDir(d))).toEqual(["%2E%2E%2F%2E%2E%2Fetc%2Fx.pause"]);
  });
});

describe("persisted state", () => {
  test("round trip, without temporary files left behind", () => {
    const d = stateDir();
    const s = { ...freshState(T), state: "failing_over" as const, failover: { id: "f1", failedHost: "esx01", phase: "registered" as const, target: "esx02", startedAt: "x", fencedAt: "x" }, history: [T - 1000] };
    saveState(d, "mgmt", s);
    expect(loadState(d, "mgmt", T)).toEqual(s);
    expect(readdirSync(watchdogDir(d))).toEqual(["mgmt.state.json"]);
  });

  test("unknown states and old history are dropped on load", () => {
    const d = stateDir();
    writeJsonDurably(statePath(d, "mgmt"), { version: 1, state: "exploded", lastTransition: "t", history: [T - 5 * 3_600_000, T - 2 * 3_600_000, T - 60_000], stale: [{ host: "esx01", since: "t" }, { nope: 1 }], pendingEvents: [] });
    const s = loadState(d, "mgmt", T);
    expect(s.state).toBe("starting");
    expect(s.history).toEqual([T - 60_000]);
    expect(s.stale).toEqual([{ host: "esx01", since: "t" }]);
  });

  test("a corrupt state file is an error naming the file (never a silent fresh start mid-failover)", () => {
    const d = stateDir();
    writeFileSync(statePath(d, "mgmt"), "{ half a write");
    expect(() => loadState(d, "mgmt", T)).toThrow(statePath(d, "mgmt"));
  });
});

describe("audit journal", () => {
  test("appends one JSON object per line and skips a torn last line", () => {
    const d = stateDir();
    const file = join(watchdogDir(d), "audit.jsonl");
    appendJournal(file, { kind: "a", n: 1 });
    appendJournal(file, { kind: "b", text: "line\nbreak" });
    appendFileSync(file, '{"kind":"tor');
    expect(readJournal(file)).toEqual([
      { kind: "a", n: 1 },
      { kind: "b", text: "line\nbreak" },
    ]);
  });
});
