// Check 4, MegaRAID Storage Manager discovery: MSM finds ESXi hosts over SLP. It will not list
// a host on ESXi 6.5 at or after build 8294253 (6.5 U2), nor one whose slpd is stopped or whose
// CIMSLP firewall ruleset is closed. The fix is an esxkit [[slp]] entry, printed ready to paste.
import { ev, listText, makeFinding } from "../finding.ts";
import type { HostFacts, Inventory } from "../inventory.ts";
import { RULES, describeBuild, esxiRelease } from "../rules.ts";
import type { Evidence, Finding } from "../types.ts";
import { compareVersions } from "../versions.ts";

interface Trap {
  rule: "msm-discovery.65-broken-build" | "msm-discovery.slpd-stopped" | "msm-discovery.cimslp-closed";
  reason: string;
  evidence: Evidence[];
}

function trapsOf(h: HostFacts): Trap[] {
  const { brokenLine, brokenFromBuild, service, ruleset } = RULES.msm;
  const traps: Trap[] = [];
  const build = Number.parseInt(h.build, 10);
  if (compareVersions(h.version, brokenLine) === 0 && build >= brokenFromBuild) {
    traps.push({
      rule: "msm-discovery.65-broken-build",
      reason: `${describeBuild("ESXi", h.version, h.build)} is at or after ${brokenFromBuild}`,
      evidence: [ev(h.name, "config.product.version", h.version), ev(h.name, "config.product.build", h.build)],
    });
  }
  const slpd = h.services?.find((s) => s.key === service);
  if (slpd && !slpd.running) {
    traps.push({
      rule: "msm-discovery.slpd-stopped",
      reason: `${service} is stopped`,
      evidence: [
        ev(h.name, `serviceInfo.service[${service}].running`, slpd.running),
        ev(h.name, `serviceInfo.service[${service}].policy`, slpd.policy),
      ],
    });
  }
  const open = h.firewall?.[ruleset];
  if (open === false) {
    traps.push({
      rule: "msm-discovery.cimslp-closed",
      reason: `the ${ruleset} firewall ruleset is disabled`,
      evidence: [ev(h.name, `firewallInfo.ruleset[${ruleset}].enabled`, open)],
    });
  }
  return traps;
}

/** A TOML string: JSON's escaping is valid TOML basic-string escaping. */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** The [[slp]] entry that makes esxkit answer MSM's SLP query for the host. */
export function slpSnippet(h: HostFacts): string {
  const host = h.fqdn && h.fqdn.includes(".") && !/^localhost\./.test(h.fqdn) ? h.fqdn : h.name;
  const lines: [string, string][] = [
    ["[[slp]]", ""],
    [`host = ${tomlString(host)}`, `the name MSM resolves to reach ${h.name}`],
    ['profile = "lsi-msm"', "WBEM attributes of ESXi with the LSI provider"],
    ['# interfaces = ["192.0.2.10"]', "answer only on this address of the esxkit machine (default: all)"],
  ];
  const width = Math.max(...lines.map(([code]) => code.length)) + 2;
  return lines.map(([code, comment]) => (comment ? `${code.padEnd(width)}# ${comment}` : code)).join("\n");
}

export function checkMsmDiscovery(inv: Inventory): Finding[] {
  const findings: Finding[] = [];
  const clean: HostFacts[] = [];
  const megaraidDrivers = RULES.msm.megaraidDrivers.map((d) => d.toLowerCase());
  for (const h of inv.hosts) {
    const traps = trapsOf(h);
    if (traps.length === 0) {
      clean.push(h);
      continue;
    }
    const megaraid = h.hbas.filter((a) => megaraidDrivers.includes(a.driver.toLowerCase()));
    const first = traps[0] as Trap;
    const known = esxiRelease(RULES.msm.brokenFromBuild);
    findings.push(
      makeFinding(first.rule, {
        target: h.name,
        title: `MegaRAID Storage Manager will not discover ${h.name}: ${listText(traps.map((t) => t.reason))}${megaraid.length ? "" : " (no MegaRAID adapter seen on this host)"}`,
        evidence: [
          ...traps.flatMap((t) => t.evidence),
          ...megaraid.map((a) => ev(h.name, `config.storageDevice.hostBusAdapter[${a.device}].driver`, a.driver)),
        ],
        vars: { host: h.name, brokenRelease: known ? `${known.release} (${known.build})` : String(RULES.msm.brokenFromBuild) },
        snippet: slpSnippet(h),
        severity: megaraid.length ? undefined : RULES.msm.severityWithoutMegaraid,
        extraSources: traps.slice(1).flatMap((t) => RULES.rules[t.rule]?.sources ?? []),
      }),
    );
  }
  if (clean.length) {
    const { service, ruleset } = RULES.msm;
    findings.push(
      makeFinding("msm-discovery.ok", {
        target: clean.length === 1 ? (clean[0] as HostFacts).name : `${clean.length} hosts`,
        title: `No MSM discovery trap on ${listText(clean.map((h) => h.name))}`,
        evidence: clean.flatMap((h) => {
          const slpd = h.services?.find((s) => s.key === service);
          return [
            ev(h.name, `serviceInfo.service[${service}].running`, h.services ? (slpd ? slpd.running : "(no such service)") : "(not readable)"),
            ev(h.name, `firewallInfo.ruleset[${ruleset}].enabled`, h.firewall ? (h.firewall[ruleset] ?? "(no such ruleset)") : "(not readable)"),
          ];
        }),
      }),
    );
  }
  return findings;
}
