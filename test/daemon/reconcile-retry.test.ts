// ServiceSet keeps a service that cannot start as down and retries it with backoff: one log
// line per distinct error, status and down() tell the truth, a reload that drops it stops the
// retries. (The same through real sockets and the binary: serve-outage.test.ts.)
import { expect, test } from "bun:test";
import { type PlannedService, ServiceSet } from "../../src/daemon/reconcile.ts";
import { createLogger } from "../../src/log/logger.ts";

function setup() {
  const logs: Array<{ msg: string; error?: string; attempts?: number }> = [];
  const logger = createLogger({ level: "info", format: "json", journal: false, write: (l) => logs.push(JSON.parse(l)) });
  let changes = 0;
  const set = new ServiceSet(logger, { retry: { initialMs: 20, maxMs: 40 }, onChange: () => changes++ });
  return { set, logs, changes: () => changes };
}

/** A service whose start() throws the given errors in turn, then succeeds. */
function flaky(name: string, errors: readonly string[]): PlannedService & { starts: () => number; stops: () => number } {
  let starts = 0;
  let stops = 0;
  return {
    kind: "bmc",
    name,
    fingerprint: name,
    starts: () => starts,
    stops: () => stops,
    create: () => ({
      async start() {
        const e = errors[starts++];
        if (e) throw new Error(e);
      },
      async stop() {
        stops++;
      },
      status: () => ({ listen: "127.0.0.1:1" }),
    }),
  };
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(5);
  }
};

const cases: Array<{ errors: string[]; lines: string[] }> = [
  { errors: ["busy", "busy", "busy"], lines: ["service failed to start; retrying with backoff"] },
  { errors: ["busy", "busy", "no address", "no address"], lines: ["service failed to start; retrying with backoff", "service still cannot start; the error changed"] },
];

test.each(cases)("errors $errors: retried until it starts, logged once per distinct error", async ({ errors, lines }) => {
  const { set, logs, changes } = setup();
  const p = flaky("web01", errors);
  const r = await set.apply([p]);
  expect(r.failed).toEqual([{ key: "bmc:web01", error: errors[0] as string }]);
  expect(set.down()).toEqual([{ key: "bmc:web01", kind: "bmc", name: "web01", error: errors[0] as string }]);
  const st = set.status()[0];
  expect(st).toMatchObject({ kind: "bmc", name: "web01", up: false, listen: "127.0.0.1:1", down: { error: errors[0], attempts: 1 } });
  await until(() => set.down().length === 0);
  expect(p.starts()).toBe(errors.length + 1);
  expect(set.status()[0]).toMatchObject({ up: true });
  expect(set.status()[0]?.down).toBeUndefined();
  expect(logs.filter((l) => l.msg.startsWith("service failed") || l.msg.startsWith("service still")).map((l) => l.msg)).toEqual(lines);
  expect(logs.filter((l) => l.msg === "service started after retrying")).toHaveLength(1);
  expect(changes()).toBe(1); // came up (going down was reported by apply itself)
  await set.stopAll();
  expect(p.stops()).toBe(1);
});

test("a reload that drops a service being retried stops the retries", async () => {
  const { set } = setup();
  const p = flaky("web02", Array(1000).fill("busy"));
  await set.apply([p]);
  await Bun.sleep(60);
  const r = await set.apply([]);
  expect(r.stopped).toEqual(["bmc:web02"]);
  const n = p.starts();
  await Bun.sleep(120);
  expect(p.starts()).toBe(n);
  expect(set.size).toBe(0);
  expect(p.stops()).toBe(1);
});

test("an unchanged service being retried is left retrying by a reload; a changed one is restarted", async () => {
  const { set } = setup();
  const p = flaky("web03", ["busy", "busy", "busy", "busy", "busy", "busy"]);
  await set.apply([p]);
  const again = await set.apply([p]);
  expect(again.unchanged).toEqual(["bmc:web03"]);
  const changed = { ...flaky("web03", []), fingerprint: "other" };
  const r = await set.apply([changed]);
  expect(r.restarted).toEqual(["bmc:web03"]);
  expect(set.down()).toEqual([]);
  await set.stopAll();
});
