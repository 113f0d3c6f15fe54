// Check 2, upgrade order: a vCenter older than any of its ESXi hosts (about.version/build
// against each host's config.product). With vSAN, a host can then drop out of the cluster
// (LOST) and its VMs become invalid.
import { ev, listText, makeFinding } from "../finding.ts";
import type { HostFacts, Inventory } from "../inventory.ts";
import { describeBuild } from "../rules.ts";
import type { Evidence, Finding } from "../types.ts";
import { compareVersions, isOlder, versionLevel } from "../versions.ts";

function vsanEvidence(hosts: HostFacts[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const h of hosts) {
    for (const d of h.datastores) {
      if (d.type.toLowerCase() !== "vsan" || seen.has(d.name)) continue;
      seen.add(d.name);
      out.push(ev(d.name, "summary.type", d.type));
    }
  }
  return out;
}

export function checkUpgradeOrder(inv: Inventory): Finding[] {
  const vcenters = inv.endpoints.filter((e) => e.kind === "vcenter");
  if (vcenters.length === 0) {
    return [
      makeFinding("upgrade-order.no-vcenter", {
        target: "vCenter",
        title: "No vCenter among the targets: the upgrade order (vCenter before ESXi) was not checked",
      }),
    ];
  }
  const findings: Finding[] = [];
  for (const vc of vcenters) {
    const vcLevel = versionLevel("vCenter", vc.version, vc.build);
    const vcText = describeBuild("vCenter", vc.version, vc.build);
    const hosts = inv.hosts.filter((h) => h.endpoint === vc.name && h.version !== "");
    const newer: HostFacts[] = [];
    const unknown: HostFacts[] = [];
    for (const h of hosts) {
      const older = isOlder(vcLevel, versionLevel("ESXi", h.version, h.build));
      if (older === true) newer.push(h);
      else if (older === undefined) unknown.push(h);
    }
    const vcEvidence = [ev(vc.name, "about.version", vc.version), ev(vc.name, "about.build", vc.build)];
    if (newer.length) {
      const newest = [...newer].sort((a, b) => compareVersions(b.version, a.version))[0] as HostFacts;
      findings.push(
        makeFinding("upgrade-order.vcenter-older", {
          target: vc.name,
          title: `${vcText} is older than ${newer.length} of its ESXi hosts: ${listText(newer.map((h) => `${h.name} (${describeBuild("ESXi", h.version, h.build)})`))}`,
          evidence: [
            ...vcEvidence,
            ...newer.flatMap((h) => [ev(h.name, "config.product.version", h.version), ev(h.name, "config.product.build", h.build)]),
            ...vsanEvidence(hosts),
          ],
          vars: { vcenter: vc.name, hostRelease: `${newest.version} (the version of ${newest.name})` },
        }),
      );
      continue;
    }
    const note = unknown.length
      ? ` (${unknown.length} of them on the same ${vc.version} line with an update level the build does not tell: see the VMware interoperability matrix)`
      : "";
    findings.push(
      makeFinding("upgrade-order.ok", {
        target: vc.name,
        title: hosts.length ? `${vcText} is not older than any of its ${hosts.length} ESXi hosts${note}` : `${vcText} manages no connected ESXi host`,
        evidence: [...vcEvidence, ...hosts.map((h) => ev(h.name, "config.product", `${h.version} build ${h.build}`))],
      }),
    );
  }
  return findings;
}
