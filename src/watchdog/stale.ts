// When a fenced host comes back, its inventory still lists the VM, powered off: a stale copy.
// It is removed with UnregisterVM (the files stay; never Destroy_Task, which deletes them),
// and only when that copy is powered off while the same vmx is powered on elsewhere.
import type { Logger } from "../log/logger.ts";
import { getPowerState, unregisterVm } from "../vsphere/vm.ts";
import type { HostClients } from "./hosts.ts";
import { type LearnedVm, readHostFacts, readRegistrations, sameVmx } from "./learn.ts";

export interface StaleCopy {
  host: string;
  since: string;
}

export type StaleOutcome =
  | { kind: "unregistered"; refs: string[] }
  | { kind: "absent" }
  | { kind: "wait"; reason: string }
  | { kind: "split_brain"; refs: string[] };

/**
 * Look at `stale.host` (which must answer its probes) and unregister its powered-off copies of
 * the VM, if the VM runs on `learned.host`. Errors propagate; the caller retries next round.
 */
export async function cleanStaleCopy(stale: StaleCopy, learned: LearnedVm, clients: HostClients, logger: Logger): Promise<StaleOutcome> {
  if (stale.host === learned.host) return { kind: "absent" };
  // The VM must run elsewhere right now (read fresh, not from the cache).
  const runningElsewhere = await clients.use(learned.host, (c) => getPowerState(c, learned.ref));
  if (runningElsewhere !== "poweredOn") return { kind: "wait", reason: `the VM is ${runningElsewhere} on ${learned.host}` };
  const { regs, facts } = await clients.use(stale.host, async (c) => ({ regs: await readRegistrations(c), facts: await readHostFacts(c) }));
  const copies = regs.filter((r) => sameVmx(r, facts.datastores, learned.datastoreUrl, learned.vmxPath));
  if (copies.length === 0) return { kind: "absent" };
  const on = copies.filter((r) => r.powerState !== "poweredOff");
  if (on.length > 0) return { kind: "split_brain", refs: on.map((r) => r.ref.value) };
  for (const r of copies) {
    await clients.use(stale.host, (c) => unregisterVm(c, r.ref));
    logger.info("unregistered the stale copy", { host: stale.host, vm: r.ref.value });
  }
  return { kind: "unregistered", refs: copies.map((r) => r.ref.value) };
}
