// The isolation rule as config.toml documents it: no action only when esxkit reaches none of its
// isolation addresses NOR another host; and the alert names the probes that failed.
import { describe, expect, test } from "bun:test";
import { type IsolationResult, isolationVerdict } from "../../src/watchdog/probe.ts";

const up = (address: string): IsolationResult => ({ address, outcome: "reachable" });
const dead = (address: string): IsolationResult => ({ address, outcome: "unreachable", detail: "no echo reply" });
const broken = (address: string): IsolationResult => ({ address, outcome: "error", detail: "cannot open an ICMP socket" });
const host = (name: string, answered: boolean) => ({ host: name, answered });

describe("isolationVerdict", () => {
  test.each<[string, IsolationResult[], Array<{ host: string; answered: boolean }>, boolean]>([
    ["gateway up, other host up", [up("192.0.2.1")], [host("esx02", true)], false],
    ["gateway dead, other host up: a gateway outage is not isolation", [dead("192.0.2.1")], [host("esx02", true)], false],
    ["gateway up, other host silent", [up("192.0.2.1")], [host("esx02", false)], false],
    ["gateway dead, other host silent: isolated", [dead("192.0.2.1")], [host("esx02", false)], true],
    ["one of two addresses answers", [dead("192.0.2.1"), up("192.0.2.2")], [host("esx02", false)], false],
    ["no addresses configured, other hosts silent", [], [host("esx02", false), host("esx03", false)], true],
    ["no addresses configured, one other host answers", [], [host("esx02", false), host("esx03", true)], false],
    ["a probe that cannot run never proves reachability", [broken("192.0.2.1")], [host("esx02", false)], true],
    ["nothing to judge by", [], [], false],
  ])("%s", (_name, iso, others, want) => {
    expect(isolationVerdict(iso, others).isolated).toBe(want);
  });

  test("the isolated alert names every failed probe, and says why", () => {
    const v = isolationVerdict([dead("192.0.2.1"), broken("2001:db8::1")], [host("esx02", false), host("esx03", false)]);
    expect(v.detail).toBe(
      "esxkit reaches neither its isolation addresses 192.0.2.1 (no echo reply), 2001:db8::1 (probe cannot run: cannot open an ICMP socket) nor another host (esx02, esx03 did not answer)",
    );
  });

  test("a gateway outage is noted, with the host that still answers", () => {
    const v = isolationVerdict([dead("192.0.2.1")], [host("esx02", true)]);
    expect(v.detail).toBe("isolation address 192.0.2.1 (no echo reply) failed, but esx02 answers: not isolated");
  });
});
