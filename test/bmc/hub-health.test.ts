// HubHealth: what `status`, /healthz and esxkit_vcenter_up say about a vCenter, and the
// outage's log lines (one down, one back; stale reads aggregated and rate-limited).
import { expect, test } from "bun:test";
import { HubHealth, STALE_LOG_EVERY_MS } from "../../src/bmc/hub-health.ts";
import { createLogger } from "../../src/log/logger.ts";

function setup() {
  let now = 1_000_000;
  const logs: Array<{ msg: string } & Record<string, unknown>> = [];
  const logger = createLogger({ level: "debug", format: "json", journal: false, write: (l) => logs.push(JSON.parse(l)) });
  const h = new HubHealth("vc", logger, () => now);
  return { h, logs, advance: (ms: number) => (now += ms), msgs: () => logs.map((l) => l.msg) };
}

type Step = ["ok"] | ["error", string] | ["wait", number];
const cases: Array<{ name: string; steps: Step[]; connected: boolean; last_error?: string | RegExp }> = [
  { name: "never heard from, no error: connecting", steps: [], connected: false },
  { name: "answered just now", steps: [["ok"]], connected: true },
  { name: "answered, then silent past the window", steps: [["ok"], ["wait", 21_000]], connected: false, last_error: /^no answer for 21 s$/ },
  { name: "answered, then an error", steps: [["ok"], ["wait", 10], ["error", "ECONNREFUSED"]], connected: false, last_error: "ECONNREFUSED" },
  { name: "an error, then an answer: connected, last error kept", steps: [["error", "ECONNREFUSED"], ["wait", 10], ["ok"]], connected: true, last_error: "ECONNREFUSED" },
];

test.each(cases)("$name", ({ steps, connected, last_error }) => {
  const { h, advance } = setup();
  for (const s of steps) {
    if (s[0] === "ok") h.ok();
    else if (s[0] === "error") h.error(new Error(s[1]));
    else advance(s[1]);
  }
  const snap = h.snapshot(20_000);
  expect(snap.connected).toBe(connected);
  if (last_error === undefined) expect(snap.last_error).toBeUndefined();
  else if (typeof last_error === "string") expect(snap.last_error).toBe(last_error);
  else expect(snap.last_error).toMatch(last_error);
});

test("an outage logs one line going down and one coming back, however many errors in between", () => {
  const { h, advance, msgs, logs } = setup();
  h.ok();
  for (let i = 0; i < 5; i++) {
    advance(1000);
    h.error(new Error("timeout"));
  }
  advance(1000);
  h.ok();
  h.ok();
  expect(msgs()).toEqual(["vCenter does not answer; retrying", "vCenter answers again"]);
  expect(logs[1]).toMatchObject({ vcenter: "vc", down_for_s: 5 });
});

test("stale reads: one line at the start, one per STALE_LOG_EVERY_MS while it lasts, one at the end with totals", () => {
  const { h, advance, msgs, logs } = setup();
  for (let i = 0; i < 10; i++) {
    h.staleRead(i % 2 ? "web01" : "web02", undefined);
    advance(STALE_LOG_EVERY_MS / 4);
  }
  h.fresh();
  h.fresh();
  expect(msgs()).toEqual([
    "power state is stale: power reads are refused (0xC3, timeout) until vCenter answers",
    "power state still stale; refusing power reads",
    "power state still stale; refusing power reads",
    "power state fresh again; power reads are answered",
  ]);
  expect(logs.at(-1)).toMatchObject({ refused: 10, bmcs: 2 });
});
