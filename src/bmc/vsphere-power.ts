// Power control of one vSphere VM (IPMI Chassis Control and Redfish Reset both end here).
//
// on/off/reset: PowerOnVM_Task/PowerOffVM_Task/ResetVM_Task, awaited to the task's end (a VM
// already in the wanted state counts as done); soft: ShutdownGuest, reboot: RebootGuest (both need VMware Tools);
// diag: SendNMI, refused as "unsupported" where the server does not know the method (older
// vSphere, the simulator).
import { BmcBackendError } from "../errors.ts";
import { isInvalidPowerState, powerOffVm, powerOnVm, rebootGuest, resetVm, shutdownGuest } from "../vsphere/vm.ts";
import { existingState, faultType } from "./vsphere-faults.ts";
import type { VsphereVmLink } from "./vsphere-vm-link.ts";

/** Faults that mean the server cannot deliver an NMI. */
const NMI_UNSUPPORTED = new Set(["MethodNotFound", "NotSupported", "NotImplemented", "InvalidRequest"]);

const POWER_TASKS = {
  on: { what: "power on", task: powerOnVm, state: "poweredOn" },
  off: { what: "power off", task: powerOffVm, state: "poweredOff" },
} as const;

/** Run the power task for `target` unless the VM is known (fresh) to be there already; a
 * VM that reached it meanwhile counts as done. True when the task ran. */
async function powerTo(link: VsphereVmLink, target: keyof typeof POWER_TASKS, taskTimeoutMs: number): Promise<boolean> {
  const p = link.powerState();
  if (p.fresh && p.state === target) return false;
  const { what, task, state } = POWER_TASKS[target];
  await link.withVm(what, async (c, vm) => {
    try {
      await task(c, vm, { timeoutMs: taskTimeoutMs });
    } catch (err) {
      if (!(isInvalidPowerState(err) && existingState(err) === state)) throw err;
    }
  });
  link.observed(state);
  return true;
}

/** Power the VM on unless it is known (fresh) to be on. True when it was powered on now. */
export function powerOnUnlessOn(link: VsphereVmLink, taskTimeoutMs: number): Promise<boolean> {
  return powerTo(link, "on", taskTimeoutMs);
}

/** Hard power off unless the VM is known (fresh) to be off. */
export async function powerOffUnlessOff(link: VsphereVmLink, taskTimeoutMs: number): Promise<void> {
  await powerTo(link, "off", taskTimeoutMs);
}

/** Hard reset; a VM that is not running is refused as "invalid_state". */
export async function resetRunningVm(link: VsphereVmLink, taskTimeoutMs: number): Promise<void> {
  await link.withVm("reset", async (c, vm) => {
    try {
      await resetVm(c, vm, { timeoutMs: taskTimeoutMs });
    } catch (err) {
      if (isInvalidPowerState(err)) throw new BmcBackendError("invalid_state", "reset: the VM is not powered on", { cause: err });
      throw err;
    }
  });
  link.observed("poweredOn");
}

/** Orderly shutdown through the guest; a VM that is already off counts as done. */
export async function shutdownGuestOs(link: VsphereVmLink): Promise<void> {
  await link.withVm("soft shutdown", async (c, vm) => {
    try {
      await shutdownGuest(c, vm);
    } catch (err) {
      if (isInvalidPowerState(err) && existingState(err) !== "poweredOn") return;
      throw err;
    }
  });
}

/** Orderly reboot through VMware Tools; a VM that is not running is refused. */
export async function rebootGuestOs(link: VsphereVmLink): Promise<void> {
  await link.withVm("guest reboot", (c, vm) => rebootGuest(c, vm));
}

export async function sendNmi(link: VsphereVmLink): Promise<void> {
  await link.withVm("diagnostic interrupt", async (c, vm) => {
    try {
      await c.call("SendNMI", vm);
    } catch (err) {
      const f = faultType(err);
      if (f && NMI_UNSUPPORTED.has(f)) throw new BmcBackendError("unsupported", `diagnostic interrupt: ${c.endpoint.name} cannot send an NMI (${f})`, { cause: err });
      throw err;
    }
  });
}
