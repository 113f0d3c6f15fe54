// Check 1, EVC / vMotion: hosts of one cluster (or vMotion domain) whose
// config.featureCapability values differ. cpuid.MDCLEAR gets its own finding: after a clean
// install one host may expose it while the others only do after a cold power-cycle, and VMs
// started on the odd host then cannot vMotion to the others (maintenance mode fails).
import { ev, listText, makeFinding } from "../finding.ts";
import type { HostFacts, Inventory, VmFacts } from "../inventory.ts";
import { RULES } from "../rules.ts";
import type { Evidence, Finding } from "../types.ts";

/** Evidence lines per finding before the rest is summarised. */
const MAX_EVIDENCE = 30;
const ABSENT = "(absent)";

interface Domain {
  label: string;
  hosts: HostFacts[];
  evcMode?: string;
}

/** Clusters; vCenter's standalone hosts per vCenter; hosts given only directly, together. */
export function vmotionDomains(inv: Inventory): Domain[] {
  const byKey = new Map<string, Domain>();
  const kindOf = new Map(inv.endpoints.map((e) => [e.name, e.kind]));
  for (const h of inv.hosts) {
    let key: string;
    let label: string;
    let evcMode: string | undefined;
    if (h.cluster) {
      key = `cluster:${h.endpoint}:${h.cluster.ref.value}`;
      label = `cluster ${h.cluster.name}`;
      evcMode = h.cluster.evcMode;
    } else if (kindOf.get(h.endpoint) === "vcenter") {
      key = `standalone:${h.endpoint}`;
      label = `standalone hosts of ${h.endpoint}`;
    } else {
      key = "direct";
      label = "the ESXi hosts given directly";
    }
    let d = byKey.get(key);
    if (!d) {
      d = { label, hosts: [], ...(evcMode ? { evcMode } : {}) };
      byKey.set(key, d);
    }
    d.hosts.push(h);
  }
  return [...byKey.values()];
}

function valueOf(h: HostFacts, key: string): string {
  const caps = h.featureCapability ?? {};
  const k = Object.keys(caps).find((c) => c.toLowerCase() === key.toLowerCase());
  return k === undefined ? ABSENT : (caps[k] as string);
}

/** Higher value first ("1" before "0" before "(absent)"). */
function compareValues(a: string, b: string): number {
  if (a === ABSENT) return b === ABSENT ? 0 : 1;
  if (b === ABSENT) return -1;
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return nb - na;
  return a.localeCompare(b);
}

function cap(evidence: Evidence[], target: string): Evidence[] {
  if (evidence.length <= MAX_EVIDENCE) return evidence;
  return [...evidence.slice(0, MAX_EVIDENCE), ev(target, "…", `${evidence.length - MAX_EVIDENCE} more values not shown (see --json)`)];
}

function vmsRequiring(vms: VmFacts[], hostKeys: Set<string>, key: string): { vm: VmFacts; value: string }[] {
  const out: { vm: VmFacts; value: string }[] = [];
  for (const vm of vms) {
    if (!vm.hostKey || !hostKeys.has(vm.hostKey) || vm.powerState === "poweredOff") continue;
    const k = Object.keys(vm.featureRequirement).find((r) => r.toLowerCase() === key.toLowerCase());
    if (k !== undefined) out.push({ vm, value: vm.featureRequirement[k] as string });
  }
  return out;
}

function coldCycleFinding(d: Domain, key: string, vms: VmFacts[]): Finding {
  const byValue = new Map<string, HostFacts[]>();
  for (const h of d.hosts) {
    const v = valueOf(h, key);
    byValue.set(v, [...(byValue.get(v) ?? []), h]);
  }
  const values = [...byValue.keys()].sort(compareValues);
  const wanted = values[0] as string;
  const featureHosts = (byValue.get(wanted) ?? []).map((h) => h.name);
  const cycleHosts = d.hosts.filter((h) => valueOf(h, key) !== wanted).map((h) => h.name);
  const evidence = d.hosts.map((h) => ev(h.name, `config.featureCapability[${key}]`, valueOf(h, key)));
  const running = vmsRequiring(vms, new Set(d.hosts.map((h) => h.key)), key);
  for (const { vm, value } of running) evidence.push(ev(vm.name, `runtime.featureRequirement[${key.toLowerCase()}]`, `${value} (running on ${vm.hostName ?? "?"})`));
  const spread = values.map((v) => `${v} on ${listText((byValue.get(v) ?? []).map((h) => h.name))}`).join("; ");
  const vmNote = running.length ? `; ${running.length} running VM(s) require it` : "";
  return makeFinding("evc.cold-cycle-mismatch", {
    target: d.label,
    title: `${key} differs within ${d.label}: ${spread}${vmNote}`,
    evidence: cap(evidence, d.label),
    vars: { cycleHosts: listText(cycleHosts), key, wanted, group: d.label, featureHosts: listText(featureHosts) },
  });
}

export function checkEvc(inv: Inventory): Finding[] {
  const findings: Finding[] = [];
  const coldKeys = RULES.evc.coldCycleKeys.map((k) => k.toLowerCase());
  let compared = 0;
  for (const d of vmotionDomains(inv)) {
    const hosts = d.hosts.filter((h) => h.featureCapability !== undefined);
    if (hosts.length < 2) continue;
    compared++;
    const domain: Domain = { ...d, hosts };
    const keys = new Map<string, string>(); // lower → first spelling seen
    for (const h of hosts) for (const k of Object.keys(h.featureCapability ?? {})) if (!keys.has(k.toLowerCase())) keys.set(k.toLowerCase(), k);
    const differing = [...keys.entries()].filter(([, k]) => new Set(hosts.map((h) => valueOf(h, k))).size > 1);

    for (const [lower, k] of differing) if (coldKeys.includes(lower)) findings.push(coldCycleFinding(domain, k, inv.vms));

    const others = differing.filter(([lower]) => !coldKeys.includes(lower)).map(([, k]) => k);
    if (others.length) {
      const evidence = others.flatMap((k) => hosts.map((h) => ev(h.name, `config.featureCapability[${k}]`, valueOf(h, k))));
      const rule = d.evcMode ? "evc.feature-mismatch-masked" : "evc.feature-mismatch";
      findings.push(
        makeFinding(rule, {
          target: d.label,
          title: `${others.length} featureCapability key(s) differ within ${d.label}: ${others.slice(0, 5).join(", ")}${others.length > 5 ? ", …" : ""}`,
          evidence: cap(evidence, d.label),
          vars: { group: d.label, evcMode: d.evcMode ?? "" },
        }),
      );
    }
    if (differing.length === 0) {
      findings.push(
        makeFinding("evc.consistent", {
          target: d.label,
          title: `config.featureCapability is identical on the ${hosts.length} hosts of ${d.label} (${keys.size} keys)`,
          evidence: hosts.map((h) => ev(h.name, "config.featureCapability[cpuid.MDCLEAR]", valueOf(h, "cpuid.MDCLEAR"))),
        }),
      );
    }
  }
  if (compared === 0) {
    findings.push(
      makeFinding("evc.nothing-to-compare", {
        target: "vMotion domains",
        title: "No cluster or group of 2+ connected hosts to compare featureCapability across",
        evidence: inv.hosts.map((h) => ev(h.name, "cluster", h.cluster?.name ?? "(standalone)")),
      }),
    );
  }
  return findings;
}
