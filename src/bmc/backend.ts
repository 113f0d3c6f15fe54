// What a virtual BMC needs from "the machine" behind it. The IPMI command handlers speak
// only to this interface; memory-backend.ts implements it in memory (tests, demo) and
// vsphere-backend.ts maps it onto one vSphere VM.

/** IPMI boot device selectors (System Boot Options parameter 5, data 2 bits 5:2). */
export type BootDevice = "none" | "pxe" | "disk" | "safe" | "diag" | "cdrom" | "bios" | "floppy";

export interface BootSetting {
  /** "none" = no override: the firmware uses its own order. */
  device: BootDevice;
  /** true = applies to all future boots; false = next boot only. */
  persistent: boolean;
  /** true = EFI boot, false = PC-compatible (legacy BIOS) boot. */
  efi: boolean;
}

export type PowerStateName = "on" | "off" | "unknown";

export interface PowerReading {
  state: PowerStateName;
  /**
   * true when `state` may be reported to a client: it is current, or it is cached and
   * no older than the BMC's max staleness. A stale reading must not be answered.
   */
  fresh: boolean;
}

export type Firmware = "bios" | "efi";

/**
 * One VM as a BMC sees it. Actions resolve when the action has completed (the VM reached
 * the new state or the task finished) and reject with BmcBackendError, DeadlineError, or
 * a vSphere error. Every action is bounded by a deadline inside the backend.
 */
export interface VmBackend {
  /**
   * Synchronous, from a cache: answering `power status` must cost nothing.
   * `peek`: for status displays. Without it a stale reading counts as a refused read (logged,
   * aggregated) and may make the backend ask the hypervisor directly.
   */
  powerState(opts?: { peek?: boolean }): PowerReading;
  powerOn(): Promise<void>;
  /** Hard power off. */
  powerOff(): Promise<void>;
  /** Hard reset of a running VM. */
  reset(): Promise<void>;
  /** Orderly shutdown through the guest OS (ACPI soft-off). */
  shutdownGuest(): Promise<void>;
  /** Power off, wait until off, power on. */
  cycle(): Promise<void>;
  /** Diagnostic interrupt; rejects with BmcBackendError("unsupported") where impossible. */
  nmi(): Promise<void>;
  /** The boot override the VM will use, reported truthfully. */
  getBoot(): Promise<BootSetting>;
  /** Set the boot override. A non-persistent one lasts for the next power-on or reset only. */
  setBoot(setting: BootSetting): Promise<void>;
  /** The VM's firmware type, or undefined while not known. */
  firmware(): Firmware | undefined;
  /** A short description for status output, e.g. "vm-42 (web01)". */
  describe(): string;
  /** Release watches and timers. */
  close(): Promise<void>;
}
