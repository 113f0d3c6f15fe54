// Check 7, serial console: each [[bmc]] with serial = true needs its VM to carry esxkit's serial
// port (serviceURI esxkit:<bmc>, direction server, proxyURI = [console] proxy_uri, connected at
// power on), and the VM's host to let the port dial out (firewall ruleset vSPC or remoteSerialPort).
import { describeSerialPort, planSerialAttach } from "../../vsphere/serial-port.ts";
import { ev, listText, makeFinding } from "../finding.ts";
import type { SerialConsoleFacts } from "../serial-facts.ts";
import type { Evidence, Finding } from "../types.ts";

function portEvidence(f: SerialConsoleFacts): Evidence[] {
  const vm = f.vmName ?? f.bmc;
  if (f.ports.length === 0) return [ev(vm, "config.hardware.device[VirtualSerialPort]", "(none)")];
  return f.ports.map((p) => ev(vm, `config.hardware.device[${p.key}]`, `${describeSerialPort(p)}${p.esxkit ? " [esxkit]" : ""}`));
}

function firewallEvidence(f: SerialConsoleFacts): Evidence[] {
  const fw = f.firewall;
  if (!fw) return [];
  return [ev(fw.hostName, "firewallInfo.ruleset[vSPC].enabled", fw.vSPC ?? "(no such ruleset)"), ev(fw.hostName, "firewallInfo.ruleset[remoteSerialPort].enabled", fw.remoteSerialPort ?? "(no such ruleset)")];
}

export function checkSerialConsole(all: readonly SerialConsoleFacts[]): Finding[] {
  const findings: Finding[] = [];
  const ok: SerialConsoleFacts[] = [];
  for (const f of all) {
    if (f.skipped) continue;
    const vars = { bmc: f.bmc, vm: f.vmName ?? f.bmc, proxyUri: f.proxyUri, host: f.firewall?.hostName ?? "the VM's host" };
    if (f.error !== undefined) {
      findings.push(makeFinding("serial-console.vm-not-found", { target: `bmc ${f.bmc}`, title: `The VM of bmc ${f.bmc} could not be read on ${f.vcenter}: ${f.error}`, evidence: [ev(f.vcenter, "findVm", f.error)], vars }));
      continue;
    }
    let good = true;
    const plan = planSerialAttach(f.ports, { serviceUri: f.serviceUri, proxyUri: f.proxyUri, poweredOn: f.powerState === "poweredOn" });
    if (plan.action === "add") {
      good = false;
      findings.push(makeFinding("serial-console.not-attached", { target: `bmc ${f.bmc}`, title: `${vars.vm} has no serial port: bmc ${f.bmc} has serial = true, but there is no console to show`, evidence: portEvidence(f), vars }));
    } else if (plan.action === "conflict") {
      good = false;
      findings.push(
        makeFinding("serial-console.foreign-port", {
          target: `bmc ${f.bmc}`,
          title: `${vars.vm} has a serial port esxkit did not create (${listText(plan.foreign.map(describeSerialPort))}); esxkit leaves it alone, so bmc ${f.bmc} has no console`,
          evidence: portEvidence(f),
          vars: { ...vars, port: listText(plan.foreign.map((p) => p.label)) },
        }),
      );
    } else if (plan.action === "edit") {
      good = false;
      findings.push(makeFinding("serial-console.wrong-target", { target: `bmc ${f.bmc}`, title: `esxkit's serial port on ${vars.vm} is not as bmc ${f.bmc} needs it: ${plan.differences.join("; ")}`, evidence: portEvidence(f), vars }));
    }
    if (f.firewall && !f.firewall.open) {
      good = false;
      findings.push(
        makeFinding("serial-console.firewall-closed", {
          target: f.firewall.hostName,
          title: `${f.firewall.hostName}, where ${vars.vm} runs, has firewall rulesets vSPC and remoteSerialPort closed: the VM's serial port cannot reach esxkit at ${f.proxyUri}`,
          evidence: firewallEvidence(f),
          vars,
        }),
      );
    } else if (!f.firewall) {
      good = false;
      findings.push(makeFinding("serial-console.firewall-unknown", { target: `bmc ${f.bmc}`, title: `The firewall of ${vars.vm}'s host could not be read${f.firewallError ? `: ${f.firewallError}` : " (the VM is on no host)"}`, evidence: [ev(vars.vm, "runtime.host", f.firewallError ?? "(not set)")], vars }));
    }
    const closedPeers = (f.peers ?? []).filter((p) => !p.open);
    if (closedPeers.length) {
      // The console works where the VM is now; it breaks the moment the VM moves. A warning,
      // not a failed check: the ok finding (if any) still stands for the current host.
      const hosts = listText(closedPeers.map((p) => p.hostName));
      findings.push(
        makeFinding("serial-console.vmotion-target-closed", {
          target: hosts,
          title: `${hosts}, in the cluster of ${vars.vm}'s host, ${closedPeers.length === 1 ? "has" : "have"} firewall rulesets vSPC and remoteSerialPort closed: after a vMotion there, ${vars.vm}'s serial port cannot reach esxkit at ${f.proxyUri}`,
          evidence: closedPeers.flatMap((p) => firewallEvidence({ ...f, firewall: p })),
          vars: { ...vars, hosts },
        }),
      );
    }
    if (good) ok.push(f);
  }
  if (ok.length) {
    findings.push(
      makeFinding("serial-console.ok", {
        target: ok.length === 1 ? `bmc ${(ok[0] as SerialConsoleFacts).bmc}` : `${ok.length} BMCs`,
        title: `Serial console ready for ${listText(ok.map((f) => `bmc ${f.bmc}`))}: esxkit's port points at the vSPC and the host lets it out`,
        evidence: ok.flatMap((f) => [...portEvidence(f), ...firewallEvidence(f)]),
      }),
    );
  }
  return findings;
}
