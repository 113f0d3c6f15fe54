// A simulator for serial-console tests: two cluster hosts with every serial firewall ruleset
// closed except vSPC on DC0_C0_H1, and one VM on each host.
import type { VimClient } from "../../../src/vsphere/client.ts";
import { refKey, str } from "../../../src/vsphere/convert.ts";
import { listHosts } from "../../../src/vsphere/host.ts";
import { listVms, type VmIdentity } from "../../../src/vsphere/search.ts";
import type { SimFixture, Vcsim } from "./sim.ts";

export interface SerialSim {
  sim: Vcsim;
  c: VimClient;
  /** The VM on the host whose vSPC ruleset is open. */
  open: VmIdentity;
  /** The VM on the host where both rulesets are closed. */
  closed: VmIdentity;
}

export async function startSerialSim(fx: SimFixture): Promise<SerialSim> {
  const sim = await fx.start({
    args: ["-vm", "2", "-host", "2", "-standalone-host", "0"],
    hosts: { "*": { firewall: { vSPC: false, remoteSerialPort: false } }, DC0_C0_H1: { firewall: { vSPC: true } } },
  });
  const c = await fx.connect(sim);
  const hostName = new Map((await listHosts(c)).map((h) => [refKey(h.ref), str(h.props.name)]));
  const vms = await listVms(c);
  const on = (name: string) => vms.find((v) => v.host && hostName.get(refKey(v.host)) === name);
  const open = on("DC0_C0_H1");
  const closed = on("DC0_C0_H0");
  if (!open || !closed) throw new Error("the simulator has no VM on DC0_C0_H1 and DC0_C0_H0");
  return { sim, c, open, closed };
}
