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

/** A VM's hardware as a BMC reports it (Redfish ComputerSystem, Ironic inspection). */
export interface MachineHardware {
  cpus?: number;
  memoryMiB?: number;
  nics: Array<{ label: string; mac: string }>;
  disks: Array<{ label: string; bytes: number }>;
  /** EFI Secure Boot; undefined when unknown or not applicable. */
  secureBoot?: boolean;
  guestOs?: string;
}

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
  /** Orderly reboot through the guest OS (needs a guest agent). */
  rebootGuest(): Promise<void>;
  /** Diagnostic interrupt; rejects with BmcBackendError("unsupported") where impossible. */
  nmi(): Promise<void>;
  /** The boot override the VM will use, reported truthfully. */
  getBoot(): Promise<BootSetting>;
  /** getBoot() answered from the watch, no request; undefined while not known. */
  cachedBoot(): BootSetting | undefined;
  /** Set the boot override. A non-persistent one lasts for the next power-on or reset only. */
  setBoot(setting: BootSetting): Promise<void>;
  /** Change the firmware (BIOS/EFI); rejects with invalid_state while the VM is powered on. */
  setFirmware(firmware: Firmware): Promise<void>;
  /** The VM's BIOS UUID (config.uuid) from the watch, or undefined while not known. */
  biosUuid(): string | undefined;
  /** CPUs, memory, NICs, disks: read on demand (cached briefly), never per power-state read. */
  hardware(): Promise<MachineHardware>;
  /** The VM's firmware type, or undefined while not known. */
  firmware(): Firmware | undefined;
  /** A short description for status output, e.g. "vm-42 (web01)". */
  describe(): string;
  /** Release watches and timers. */
  close(): Promise<void>;
}
