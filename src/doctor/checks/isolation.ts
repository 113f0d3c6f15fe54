// Check 5, isolation probes, per [[watchdog]] with bare-IP isolation_addresses: esxkit must be
// able to send ICMP echo requests both here and under the installed unit (the probe that
// cannot run used to look like "every gateway unreachable"), and some address should answer.
import { ev, listText, makeFinding } from "../finding.ts";
import type { Finding } from "../types.ts";
import { unitHasCapability } from "../unit-file.ts";
import type { IsolationFacts } from "../isolation-facts.ts";

function rangeCovers(range: [number, number] | undefined, gids: readonly [number, number]): boolean {
  return !!range && range[0] <= gids[0] && gids[1] <= range[1];
}

export function checkIsolation(f: IsolationFacts): Finding[] {
  const target = `watchdog ${f.watchdog}`;
  const findings: Finding[] = [];
  const rangeText = f.pingGroupRange ? f.pingGroupRange.join(" ") : "(unreadable)";
  if (f.self.error) {
    findings.push(
      makeFinding("watchdog.isolation-probe-unavailable", {
        target,
        title: `esxkit cannot send ICMP here, so the isolation addresses ${listText(f.icmp.map((a) => a.address))} cannot be probed`,
        evidence: [ev("this process", "ICMP socket", f.self.error), ev("kernel", "net.ipv4.ping_group_range", rangeText)],
      }),
    );
  }
  if (f.unit) {
    const u = f.unit;
    const raw = unitHasCapability(u.privileges, "net_raw", u.runsAsRoot);
    const datagram = rangeCovers(f.pingGroupRange, u.gids);
    const evidence = [
      ev(u.path, "CapabilityBoundingSet", u.privileges.bounding.join(" ")),
      ev(u.path, "AmbientCapabilities", u.privileges.ambient.join(" ") || "(none)"),
      ev(u.path, "runs as", u.runsAsRoot ? "root" : u.privileges.dynamicUser ? `DynamicUser (gids ${u.gids.join("–")})` : `User=${u.privileges.user} (gid ${u.gids[0]})`),
      ev("kernel", "net.ipv4.ping_group_range", rangeText),
    ];
    if (!raw && !datagram) {
      findings.push(
        makeFinding("watchdog.isolation-probe-unit", {
          target,
          title: `Under ${u.path} esxkit could not send ICMP: no CAP_NET_RAW, and ping_group_range ${rangeText} excludes the service's group`,
          evidence,
          vars: { unit: u.path },
        }),
      );
    } else {
      findings.push(makeFinding("watchdog.isolation-probe-ok", { target, title: `Under ${u.path} esxkit can send ICMP (${raw ? "raw socket, CAP_NET_RAW" : "datagram socket, ping_group_range"})`, evidence }));
    }
  }
  const answered = f.icmp.filter((a) => a.outcome === "reply");
  if (!f.self.error && answered.length === 0) {
    findings.push(
      makeFinding("watchdog.isolation-unreachable", {
        target,
        title: `None of the isolation addresses ${listText(f.icmp.map((a) => a.address))} answers ICMP echo from here`,
        evidence: f.icmp.map((a) => ev(a.address, "ICMP echo", a.detail ?? a.outcome)),
      }),
    );
  }
  return findings;
}
