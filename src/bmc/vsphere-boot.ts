// IPMI boot devices ↔ vSphere VirtualMachineBootOptions.
//
// vSphere's bootOrder is persistent: the VM boots from the listed devices, then falls back
// to the firmware's default order. enterBIOSSetup is one-shot by nature (vSphere clears it
// once the VM has entered setup). So: pxe/disk/cdrom/floppy set bootOrder, bios sets
// enterBIOSSetup, none clears bootOrder; a one-shot request is emulated by restoring the
// previous bootOrder after the next power-on or reset (vsphere-boot-control.ts).
import { BmcBackendError } from "../errors.ts";
import type { BootableDevice, BootOptions, VmDevice } from "../vsphere/vim-types.ts";
import type { BootDevice } from "./backend.ts";

/** The device an IPMI client should be told about for these boot options. */
export function deviceOfBootOptions(b: BootOptions): { device: BootDevice; persistent: boolean } {
  if (b.enterBIOSSetup) return { device: "bios", persistent: false };
  const first = b.bootOrder?.[0];
  if (!first) return { device: "none", persistent: false };
  const device: BootDevice = first.kind === "ethernet" ? "pxe" : first.kind;
  return { device, persistent: true };
}

/**
 * The boot options that select `device`, built from the current ones (vSphere replaces
 * unset fields in some versions and the simulator replaces the whole object, so every
 * field is carried over).
 */
export function bootOptionsFor(device: BootDevice, current: BootOptions, devices: VmDevice[]): BootOptions {
  const next: BootOptions = { ...current, enterBIOSSetup: false };
  const keysOf = (kind: VmDevice["kind"]) => devices.filter((d) => d.kind === kind).map((d) => d.key);
  switch (device) {
    case "none":
      next.bootOrder = [];
      break;
    case "pxe": {
      const nics = keysOf("ethernet");
      if (!nics.length) throw new BmcBackendError("invalid_state", "boot from PXE: the VM has no network adapter");
      next.bootOrder = nics.map((deviceKey): BootableDevice => ({ kind: "ethernet", deviceKey }));
      break;
    }
    case "disk":
    case "safe": {
      const disks = keysOf("disk");
      if (!disks.length) throw new BmcBackendError("invalid_state", "boot from disk: the VM has no virtual disk");
      next.bootOrder = disks.map((deviceKey): BootableDevice => ({ kind: "disk", deviceKey }));
      break;
    }
    case "cdrom":
      next.bootOrder = [{ kind: "cdrom" }];
      break;
    case "floppy":
      next.bootOrder = [{ kind: "floppy" }];
      break;
    case "bios":
      next.enterBIOSSetup = true;
      break;
    case "diag":
      throw new BmcBackendError("unsupported", "boot from a diagnostic partition: a VM has none");
  }
  return next;
}
