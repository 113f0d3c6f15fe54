// Doctor's isolation-probe check: the ICMP probes must be able to run here AND under the
// installed unit (doctor usually runs as root, the service does not).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkIsolation } from "../../src/doctor/checks/isolation.ts";
import { DYNAMIC_ID_RANGE, type IsolationFacts } from "../../src/doctor/isolation-facts.ts";
import { unitPrivileges } from "../../src/doctor/unit-file.ts";

const shipped = readFileSync(join(import.meta.dir, "../../packaging/esxkit.service"), "utf8");
const withoutRaw = shipped.replace(/ CAP_NET_RAW/g, "");
const unit = (text: string): IsolationFacts["unit"] => ({ path: "/etc/systemd/system/esxkit.service", privileges: unitPrivileges(text), gids: DYNAMIC_ID_RANGE, runsAsRoot: false });
const base: IsolationFacts = { watchdog: "vcsa", icmp: [{ address: "192.0.2.1", outcome: "reply" }], self: { method: "raw" }, pingGroupRange: [1, 0], unit: unit(shipped) };
const rules = (f: IsolationFacts) => checkIsolation(f).map((x) => `${x.rule}:${x.severity}`).sort();

describe("checkIsolation", () => {
  test.each<[string, Partial<IsolationFacts>, string[]]>([
    ["the shipped unit grants CAP_NET_RAW: ok", {}, ["watchdog.isolation-probe-ok:ok"]],
    ["a unit without CAP_NET_RAW, Debian's ping_group_range 1 0: critical", { unit: unit(withoutRaw) }, ["watchdog.isolation-probe-unit:critical"]],
    ["a unit without CAP_NET_RAW, ping_group_range covering every group: ok (datagram socket)", { unit: unit(withoutRaw), pingGroupRange: [0, 2147483647] }, ["watchdog.isolation-probe-ok:ok"]],
    ["ping_group_range covering only root does not cover the dynamic user", { unit: unit(withoutRaw), pingGroupRange: [0, 0] }, ["watchdog.isolation-probe-unit:critical"]],
    ["no unit installed: only this process counts", { unit: undefined }, []],
    ["this process cannot send ICMP", { self: { error: "cannot open an ICMP socket" }, icmp: [{ address: "192.0.2.1", outcome: "error" }] }, ["watchdog.isolation-probe-ok:ok", "watchdog.isolation-probe-unavailable:critical"]],
    ["no isolation address answers", { icmp: [{ address: "192.0.2.1", outcome: "timeout" }] }, ["watchdog.isolation-probe-ok:ok", "watchdog.isolation-unreachable:warning"]],
  ])("%s", (_name, patch, want) => {
    expect(rules({ ...base, ...patch })).toEqual(want);
  });

  test("the unit finding shows the unit's capabilities and the kernel setting, and how to fix it", () => {
    const [f] = checkIsolation({ ...base, unit: unit(withoutRaw) });
    expect(f?.evidence).toContainEqual({ object: "/etc/systemd/system/esxkit.service", property: "AmbientCapabilities", value: "net_bind_service" });
    expect(f?.evidence).toContainEqual({ object: "kernel", property: "net.ipv4.ping_group_range", value: "1 0" });
    expect(f?.fix).toContain("Add CAP_NET_RAW to both AmbientCapabilities= and CapabilityBoundingSet=");
  });
});
