// The power actions a BMC front end (IPMI Chassis Control, Redfish ComputerSystem.Reset)
// asks of a machine, with one set of rules for both: cycling, resetting, rebooting or
// interrupting a VM that is off is refused (invalid_state) rather than quietly powering it on.
import { BmcBackendError } from "../errors.ts";
import type { VmBackend } from "./backend.ts";

export type PowerAction = "on" | "off" | "cycle" | "reset" | "diag" | "soft" | "reboot";

function requireRunning(backend: VmBackend, action: PowerAction): void {
  const p = backend.powerState();
  // IPMI v2.0 §28.3: power cycle of a system that is off should do nothing and answer D5h.
  // The same holds for reset, reboot and NMI: there is nothing running to reset or interrupt.
  if (p.fresh && p.state === "off") throw new BmcBackendError("invalid_state", `power ${action}: the VM is powered off`);
}

/** Carry out `action`; resolves when it has completed. */
export async function runPowerAction(b: VmBackend, action: PowerAction): Promise<void> {
  switch (action) {
    case "on":
      return b.powerOn();
    case "off":
      return b.powerOff();
    case "soft":
      if (b.powerState().fresh && b.powerState().state === "off") return;
      return b.shutdownGuest();
    case "reboot":
      requireRunning(b, action);
      return b.rebootGuest();
    case "cycle":
      requireRunning(b, action);
      return b.cycle();
    case "reset":
      requireRunning(b, action);
      return b.reset();
    case "diag":
      requireRunning(b, action);
      return b.nmi();
  }
}
