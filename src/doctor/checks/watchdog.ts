// Check 5, watchdog readiness, per [[watchdog]]: the protected VM's vmx is on a datastore every
// candidate host sees; its network survives vCenter being down (standard vSwitch or ephemeral
// distributed portgroup); esxkit's own VM runs elsewhere; each BMC answers and is its host's.
import { guidString, isBlankGuid, matchGuid } from "../../ipmi/guid.ts";
import { ev, listText, makeFinding } from "../finding.ts";
import type { Evidence, Finding } from "../types.ts";
import type { CandidateFacts, NicFacts, WatchdogFacts } from "../watchdog-facts.ts";

/** Bindings a standalone host can attach while vCenter is down. */
const HOST_ATTACHABLE_BINDINGS = new Set(["ephemeral"]);

function hostLabel(c: CandidateFacts): string {
  return c.host && c.host.name !== c.esxi ? `${c.esxi} (${c.host.name})` : c.esxi;
}

function datastoreFindings(w: WatchdogFacts, target: string, reachable: CandidateFacts[]): Finding[] {
  const pv = w.vm;
  if (!pv?.vmPathName) return [];
  const wanted = pv.datastore;
  const name = pv.datastoreName ?? "?";
  const sees = (c: CandidateFacts) =>
    !!c.host?.datastores.some((d) => (wanted?.url ? d.url === wanted.url : d.name === name) && d.accessible);
  const missing = reachable.filter((c) => !sees(c));
  const evidence = [
    ev(pv.vm.name, "config.files.vmPathName", pv.vmPathName),
    ...(wanted ? [ev(name, "summary.url", wanted.url)] : []),
    ...reachable.map((c) => {
      const d = c.host?.datastores.find((x) => (wanted?.url ? x.url === wanted.url : x.name === name));
      return ev(hostLabel(c), "datastore[].summary", d ? `${d.name} ${d.url} accessible=${d.accessible}` : "(not mounted)");
    }),
  ];
  if (missing.length) {
    return [
      makeFinding("watchdog.datastore-missing", {
        target,
        title: `${listText(missing.map(hostLabel))} cannot see datastore ${name} that holds ${pv.vm.name}'s vmx`,
        evidence,
        vars: { datastore: name, hosts: listText(missing.map((c) => c.esxi)), vmx: pv.vmPathName },
      }),
    ];
  }
  return [
    makeFinding("watchdog.datastore-ok", {
      target,
      title: `Every candidate host sees datastore ${name} (${pv.vmPathName})`,
      evidence,
    }),
  ];
}

function nicEvidence(vm: string, n: NicFacts) {
  if (n.backing === "standard") return ev(vm, `${n.label} backing`, `standard portgroup "${n.portgroup ?? "?"}"`);
  if (n.backing === "distributed")
    return ev(vm, `${n.label} backing`, `distributed portgroup "${n.portgroup ?? n.portgroupKey ?? "?"}", config.type=${n.binding ?? "(unknown)"}`);
  return ev(vm, `${n.label} backing`, n.backingType ?? "other");
}

function networkFindings(w: WatchdogFacts, target: string, reachable: CandidateFacts[]): Finding[] {
  const pv = w.vm;
  if (!pv) return [];
  const findings: Finding[] = [];
  const vm = pv.vm.name;
  for (const n of pv.nics) {
    if (n.backing === "distributed" && n.binding && !HOST_ATTACHABLE_BINDINGS.has(n.binding)) {
      findings.push(
        makeFinding("watchdog.network-static-dvs", {
          target,
          title: `${vm} ${n.label} is on distributed portgroup ${n.portgroup ?? n.portgroupKey ?? "?"} with ${n.binding} (non-ephemeral) port binding`,
          evidence: [nicEvidence(vm, n)],
          vars: { nic: n.label, vm },
        }),
      );
    } else if (n.backing !== "standard" && !(n.binding && HOST_ATTACHABLE_BINDINGS.has(n.binding))) {
      const portgroup = n.portgroup ?? n.portgroupKey ?? n.backingType ?? "?";
      findings.push(
        makeFinding("watchdog.network-unknown-binding", {
          target,
          title: `Cannot tell whether ${vm} ${n.label} (${portgroup}) can be attached by a host while vCenter is down`,
          evidence: [nicEvidence(vm, n)],
          vars: { portgroup },
        }),
      );
    } else if (n.backing === "standard") {
      const missing = reachable.filter((c) => c.host && !c.host.standardPortgroups.includes(n.portgroup ?? ""));
      if (missing.length) {
        findings.push(
          makeFinding("watchdog.portgroup-missing", {
            target,
            title: `Standard portgroup "${n.portgroup}" of ${vm} ${n.label} is missing on ${listText(missing.map(hostLabel))}`,
            evidence: [nicEvidence(vm, n), ...reachable.map((c) => ev(hostLabel(c), "config.network.portgroup[].spec.name", c.host?.standardPortgroups.join(", ") || "(none)"))],
            vars: { portgroup: n.portgroup ?? "", hosts: listText(missing.map((c) => c.esxi)), vm, nic: n.label },
          }),
        );
      }
    }
  }
  if (findings.length === 0 && pv.nics.length) {
    findings.push(
      makeFinding("watchdog.network-ok", {
        target,
        title: `${vm}'s network can be attached by any candidate host while vCenter is down`,
        evidence: pv.nics.map((n) => nicEvidence(vm, n)),
      }),
    );
  }
  return findings;
}

/** self_host unset, but this machine was found as a VM by its MAC address (self-vm.ts). */
function detectedPlacementFindings(w: WatchdogFacts, self: NonNullable<WatchdogFacts["selfVm"]>, target: string, vmHost: Evidence): Finding[] {
  const pv = w.vm as NonNullable<WatchdogFacts["vm"]>;
  const host = self.vm.hostName ?? "?";
  const evidence = [vmHost, ev("this machine", "MAC address", self.mac), ev(self.vm.name, "config.hardware.device[].macAddress", self.mac), ev(self.vm.name, "runtime.host", host)];
  const me = `esxkit (this machine, VM ${self.vm.name} by its MAC address)`;
  if (self.vm.hostKey === pv.vm.hostKey) {
    return [makeFinding("watchdog.same-host", { target, title: `${me} and ${pv.vm.name} both run on ${host}`, evidence, vars: { vm: pv.vm.name, host } })];
  }
  const setting = self.esxi ? `self_host = "${self.esxi}"` : `self_host = "<name>" (after adding an [esxi.<name>] section for ${host})`;
  return [
    makeFinding("watchdog.placement-ok", { target, title: `${me} on ${host} and ${pv.vm.name} on ${pv.vm.hostName ?? "?"} run on different hosts`, evidence }),
    makeFinding("watchdog.self-host-detected", {
      target,
      title: `self_host is not set, though esxkit runs on ${host}${self.esxi ? ` ([esxi.${self.esxi}])` : ""}`,
      evidence: [ev(target, "self_host", undefined), ev(self.vm.name, "runtime.host", host)],
      vars: { setting, vm: pv.vm.name, host },
    }),
  ];
}

function placementFindings(w: WatchdogFacts, target: string): Finding[] {
  const pv = w.vm;
  if (!pv) return [];
  const vmHost = ev(pv.vm.name, "runtime.host", pv.vm.hostName ?? "(unknown)");
  if (!w.selfHost && w.selfVm && pv.vm.hostKey) return detectedPlacementFindings(w, w.selfVm, target, vmHost);
  if (!w.selfHost) {
    return [makeFinding("watchdog.self-host-unknown", { target, title: "self_host is not set: cannot check that esxkit and the protected VM run on different hosts", evidence: [vmHost], vars: { vm: pv.vm.name } })];
  }
  const self = w.selfHost;
  if (!self.host || !pv.vm.hostKey) {
    return [
      makeFinding("watchdog.self-host-unknown", {
        target,
        title: `Cannot tell where ${self.host ? pv.vm.name : `self_host ${self.esxi}`} runs: anti-affinity not checked`,
        evidence: [vmHost, ev("self_host", "esxi", self.esxi)],
        vars: { vm: pv.vm.name },
      }),
    ];
  }
  const evidence = [vmHost, ev("self_host", self.esxi, self.host.name)];
  if (self.host.key === pv.vm.hostKey) {
    return [
      makeFinding("watchdog.same-host", {
        target,
        title: `esxkit's own VM and ${pv.vm.name} both run on ${self.host.name}`,
        evidence,
        vars: { vm: pv.vm.name, host: self.host.name },
      }),
    ];
  }
  return [makeFinding("watchdog.placement-ok", { target, title: `esxkit (on ${self.host.name}) and ${pv.vm.name} (on ${pv.vm.hostName ?? "?"}) run on different hosts`, evidence })];
}

/**
 * A BMC that answers but is not shown to be its host's (its System GUID is not the host's
 * hardware uuid in any vendor byte order, nor the pinned bmc.guid): the watchdog never fences it.
 * Undefined when it matches, or when the host's uuid is unknown (it is reported unreachable).
 */
function identityFinding(c: CandidateFacts, target: string): Finding | undefined {
  const bmc = c.bmc;
  if (!bmc) return undefined;
  const where = `${bmc.address}:${bmc.port}`;
  const want = bmc.pinnedGuid ?? c.host?.hardwareUuid;
  const wantEv = bmc.pinnedGuid ? ev(`esxi.${c.esxi}`, "bmc.guid", bmc.pinnedGuid) : ev(hostLabel(c), "hardware.systemInfo.uuid", c.host?.hardwareUuid);
  const bytes = bmc.guid ? Uint8Array.from(Buffer.from(bmc.guid, "hex")) : undefined;
  if (!want) return undefined;
  const seen = bytes ? guidString(bytes, "smbios") : undefined;
  const guidEv = ev(`bmc ${c.esxi}`, bmc.guidSource === "rakp2" ? "RAKP2 managed system GUID" : "Get System GUID", seen ?? "(not readable)");
  const vars = { esxi: c.esxi, address: where, guid: seen ?? "?" };
  if (!bytes || isBlankGuid(bytes) || (bmc.guidSource === "rakp2" && !matchGuid(bytes, want))) {
    return makeFinding("watchdog.bmc-unidentified", { target, title: `The BMC at ${where} cannot be shown to be ${c.esxi}'s`, evidence: [guidEv, wantEv], vars });
  }
  if (matchGuid(bytes, want)) return undefined;
  return makeFinding("watchdog.bmc-wrong-host", { target, title: `The BMC at ${where} is not ${c.esxi}'s: its System GUID ${seen} is not ${bmc.pinnedGuid ? "the pinned bmc.guid" : "the host's hardware uuid"}`, evidence: [guidEv, wantEv], vars });
}

function bmcFindings(w: WatchdogFacts, target: string): Finding[] {
  const findings: Finding[] = [];
  const good: CandidateFacts[] = [];
  for (const c of w.candidates) {
    if (!c.bmc) {
      findings.push(makeFinding("watchdog.bmc-missing", { target, title: `[esxi.${c.esxi}] has no BMC to fence it with`, vars: { esxi: c.esxi } }));
    } else if (!c.bmc.answered) {
      findings.push(
        makeFinding("watchdog.bmc-unreachable", {
          target,
          title: `The BMC of ${c.esxi} at ${c.bmc.address}:${c.bmc.port} does not answer`,
          evidence: [ev(`bmc ${c.esxi}`, `${c.bmc.address}:${c.bmc.port}`, c.bmc.detail)],
          vars: { esxi: c.esxi, address: c.bmc.address, port: c.bmc.port },
        }),
      );
    } else {
      const wrong = identityFinding(c, target);
      if (wrong) findings.push(wrong);
      else good.push(c);
    }
  }
  if (good.length) {
    findings.push(
      makeFinding("watchdog.bmc-ok", {
        target,
        title: `The BMC${good.length > 1 ? "s" : ""} of ${listText(good.map((c) => c.esxi))} answer${good.length > 1 ? "" : "s"}`,
        evidence: good.map((c) => ev(`bmc ${c.esxi}`, `${c.bmc?.address}:${c.bmc?.port}`, c.bmc?.detail ?? "")),
      }),
    );
  }
  return findings;
}

export function checkWatchdog(w: WatchdogFacts): Finding[] {
  const target = `watchdog ${w.name}`;
  const findings: Finding[] = [];
  const reachable = w.candidates.filter((c) => c.reachable);
  for (const c of w.candidates.filter((x) => !x.reachable)) {
    findings.push(
      makeFinding("watchdog.host-unreachable", {
        target,
        title: `Candidate host ${c.esxi} cannot be reached directly`,
        evidence: [ev(c.esxi, "connection", c.error ?? "not connected")],
        vars: { esxi: c.esxi },
      }),
    );
  }
  if (!w.vm) {
    findings.push(
      makeFinding("watchdog.vm-not-found", {
        target,
        title: `Protected VM "${w.vmName}" was not found on any reachable endpoint`,
        evidence: reachable.map((c) => ev(c.esxi, "VirtualMachine.name", `no "${w.vmName}"`)),
        vars: { vm: w.vmName },
      }),
    );
  } else {
    findings.push(...datastoreFindings(w, target, reachable), ...networkFindings(w, target, reachable), ...placementFindings(w, target));
  }
  findings.push(...bmcFindings(w, target));
  for (const note of w.notes) {
    findings.push(makeFinding("watchdog.read-error", { target, title: `Part of the watchdog readiness could not be read: ${note}`, evidence: [ev(target, "read error", note)] }));
  }
  return findings;
}
