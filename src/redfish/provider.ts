// What the Redfish service needs from "the systems" behind it, in Redfish terms. The
// protocol layer (this directory) knows nothing of vSphere; src/bmc/redfish-systems.ts
// implements this over the machines' VmBackend, action queue and VirtualMedia.
// Methods reject with RedfishRequestError (errors.ts) carrying the status to answer.

export const RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn", "PushPowerButton", "PowerCycle"] as const;
export type ResetType = (typeof RESET_TYPES)[number];

export const BOOT_ENABLED = ["Disabled", "Once", "Continuous"] as const;
export type BootEnabled = (typeof BOOT_ENABLED)[number];
export const BOOT_MODES = ["UEFI", "Legacy"] as const;
export type BootMode = (typeof BOOT_MODES)[number];
/** Every target the schema knows that esxkit may map; a system lists the ones it can do. */
export const BOOT_TARGETS = ["None", "Pxe", "Floppy", "Cd", "Usb", "Hdd", "BiosSetup", "Utilities", "Diags", "UefiShell", "UefiTarget", "SDCard", "UefiHttp", "RemoteDrive", "UefiBootNext", "Recovery"] as const;
export type BootTarget = (typeof BOOT_TARGETS)[number];

export interface BootState {
  target: BootTarget;
  enabled: BootEnabled;
  /** undefined while the firmware is not known. */
  mode?: BootMode;
  allowedTargets: BootTarget[];
  allowedModes: BootMode[];
}

export interface BootPatch {
  target?: BootTarget;
  enabled?: BootEnabled;
  mode?: BootMode;
}

export interface SystemDetails {
  uuid?: string;
  model?: string;
  processors: number;
  memoryGiB: number;
  nics: Array<{ id: string; name: string; mac: string }>;
  disks: Array<{ name: string; bytes: number }>;
  /** undefined: not an EFI machine (no Secure Boot to report). */
  secureBoot?: boolean;
  boot: BootState;
}

export type MediaDeviceId = "Cd" | "USBStick";

export interface MediaView {
  id: MediaDeviceId;
  mediaTypes: string[];
  image?: string;
  inserted: boolean;
  writeProtected: boolean;
  connected: boolean;
  transfer?: { state: "downloading" | "done" | "failed"; bytes: number; total?: number; error?: string };
}

export interface InsertRequest {
  image: string;
  username?: string;
  password?: string;
  writeProtected: boolean;
  signal?: AbortSignal;
}

export interface RedfishSystem {
  /** The Id in URIs: the BIOS UUID once known, else the config name. */
  id(): string;
  /** Whether a URI segment names this system (its UUID or its config name). */
  matches(segment: string): boolean;
  readonly name: string;
  /** From the watch: costs no vCenter request. undefined = unknown. */
  powerState(): "On" | "Off" | undefined;
  details(): Promise<SystemDetails>;
  resetTypes(): ResetType[];
  /** Resolves "done" when the reset completed, "running" when it continues in the background. */
  reset(type: ResetType): Promise<"done" | "running">;
  patchBoot(patch: BootPatch): Promise<void>;
  media(): MediaView[];
  /** Resolves when the image is on the datastore and connected. */
  insertMedia(device: MediaDeviceId, req: InsertRequest): Promise<void>;
  ejectMedia(device: MediaDeviceId): Promise<void>;
}

export interface RedfishProvider {
  systems(): RedfishSystem[];
}
