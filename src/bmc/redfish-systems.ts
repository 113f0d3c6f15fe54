// Redfish operations mapped onto the machine operations: the RedfishProvider of
// src/redfish/provider.ts over the MachineRegistry. Power and boot go through the machine's
// action queue and power-actions.ts (the very code IPMI Chassis Control runs); media through
// its VirtualMedia. Failures become Redfish statuses by failureKind (error-codes.ts).
import { errorCode, RedfishRequestError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import type { BootPatch, BootTarget, InsertRequest, MediaDeviceId, MediaView, RedfishProvider, RedfishSystem, ResetType, SystemDetails } from "../redfish/provider.ts";
import type { BootDevice, BootSetting, MachineHardware } from "./backend.ts";
import { failureKind } from "./error-codes.ts";
import type { Machine, MachineRegistry } from "./machine.ts";
import { type PowerAction, runPowerAction } from "./power-actions.ts";
import type { MediaSlot } from "./virtual-media.ts";

const mediaInserts = metrics.counter("esxkit_redfish_media_inserts_total", "Redfish InsertMedia requests by device and result.");

/** How long Reset waits for its action before answering 204 (the action continues). */
const RESET_WAIT_MS = 10_000;
const PROGRESS_LOG_MS = 10_000;
/** How long GET System waits for a hardware read before answering with what it knows. */
const HARDWARE_WAIT_MS = 2_000;

const TARGET_OF: Record<BootDevice, BootTarget> = { none: "None", pxe: "Pxe", disk: "Hdd", safe: "Hdd", diag: "Diags", cdrom: "Cd", bios: "BiosSetup", floppy: "Floppy" };
const DEVICE_OF: Partial<Record<BootTarget, BootDevice>> = { None: "none", Pxe: "pxe", Hdd: "disk", Cd: "cdrom", BiosSetup: "bios" };
const TARGETS: BootTarget[] = ["None", "Pxe", "Cd", "Hdd", "BiosSetup"];
const RESETS: ResetType[] = ["On", "ForceOn", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle", "PushPowerButton"];
const SLOT_DEVICE: Record<MediaSlot, MediaDeviceId> = { cd: "Cd", removable: "USBStick" };
const DEVICE_SLOT: Record<MediaDeviceId, MediaSlot> = { Cd: "cd", USBStick: "removable" };
const MEDIA_TYPES: Record<MediaDeviceId, string[]> = { Cd: ["CD", "DVD"], USBStick: ["USBStick"] };


export function redfishError(err: unknown, what: string): RedfishRequestError {
  if (err instanceof RedfishRequestError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  switch (failureKind(err)) {
    case "unsupported":
      return new RedfishRequestError(400, "ActionNotSupported", `${what}: not possible on this VM (${detail}).`, { args: [what] });
    case "invalid_state":
      return new RedfishRequestError(409, "OperationNotAllowed", `${what}: not possible in the VM's present state (${detail}).`);
    case "busy":
      return new RedfishRequestError(409, "ResourceInUse", `${what}: another operation is in progress (${detail}).`);
    case "unavailable":
      return new RedfishRequestError(503, "ServiceTemporarilyUnavailable", `${what}: vCenter is not reachable right now (${detail}).`, { args: ["10"], headers: { "Retry-After": "10" } });
    case "no_permission":
      return new RedfishRequestError(500, "OperationFailed", `${what}: vCenter refused esxkit's account (${detail}).`);
    default:
      return new RedfishRequestError(500, "OperationFailed", `${what} failed: ${detail}`);
  }
}

/** The media backend's error codes (errors.ts, virtual media) as Redfish answers. */
function mediaError(err: unknown, what: string): RedfishRequestError {
  const detail = err instanceof Error ? err.message : String(err);
  switch (errorCode(err)) {
    case "ESX_MEDIA_URL":
      return new RedfishRequestError(400, "ActionParameterValueFormatError", `${what}: ${detail}`, { args: ["Image", what], property: "Image" });
    case "ESX_MEDIA_SOURCE":
      return new RedfishRequestError(502, "CouldNotEstablishConnection", `${what}: the image URL failed (${detail}).`, { args: ["Image"] });
    case "ESX_MEDIA_BUSY":
    case "ESX_MEDIA_FOREIGN":
      return new RedfishRequestError(409, "ResourceInUse", `${what}: ${detail}`);
    case "ESX_MEDIA_DATASTORE":
      return new RedfishRequestError(500, "OperationFailed", `${what}: the datastore side failed (${detail}).`);
    case "ESX_MEDIA_SLOT":
      return new RedfishRequestError(404, "ResourceNotFound", `${what}: ${detail}`);
    default:
      return redfishError(err, what);
  }
}

function resetAction(type: ResetType, on: boolean): PowerAction {
  switch (type) {
    case "On":
    case "ForceOn":
      return "on";
    case "ForceOff":
      return "off";
    case "GracefulShutdown":
      return "soft";
    case "GracefulRestart":
      return "reboot";
    case "ForceRestart":
      return "reset";
    case "PowerCycle":
      return "cycle";
    case "Nmi":
      return "diag";
    case "PushPowerButton":
      return on ? "soft" : "on";
  }
}

class MachineSystem implements RedfishSystem {
  #hardware?: MachineHardware;
  constructor(
    readonly m: Machine,
    readonly logger: Logger,
  ) {}

  get name(): string {
    return this.m.name;
  }

  id(): string {
    return this.m.backend.biosUuid() ?? this.m.name;
  }

  matches(segment: string): boolean {
    return segment === this.m.name || segment.toLowerCase() === this.m.backend.biosUuid();
  }

  powerState(): "On" | "Off" | undefined {
    const p = this.m.backend.powerState();
    if (!p.fresh || p.state === "unknown") return undefined;
    return p.state === "on" ? "On" : "Off";
  }

  async details(): Promise<SystemDetails> {
    const b = this.m.backend;
    // A GET System (Ironic's power poll) must neither fail nor wait for the hardware: a VM not
    // found yet is not asked, and a slow read answers with the last known hardware (the read
    // goes on and fills the backend's cache).
    if (b.powerState().state !== "unknown") {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const read = b.hardware();
      read.catch(() => undefined);
      try {
        const hw = await Promise.race([read, new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), HARDWARE_WAIT_MS);
        })]);
        if (hw) this.#hardware = hw;
      } catch (err) {
        if (!this.#hardware) this.logger.debug("hardware not readable yet", { err });
      } finally {
        clearTimeout(timer);
      }
    }
    const hw = this.#hardware;
    const fw = b.firmware();
    const boot: BootSetting = b.cachedBoot() ?? { device: "none", persistent: false, efi: fw === "efi" };
    const mode = fw === undefined ? undefined : fw === "efi" ? "UEFI" : "Legacy";
    const off = this.powerState() === "Off";
    return {
      uuid: b.biosUuid(),
      model: hw?.guestOs ? `VMware Virtual Platform (${hw.guestOs})` : undefined,
      processors: hw?.cpus ?? 0,
      memoryGiB: Math.round(((hw?.memoryMiB ?? 0) / 1024) * 100) / 100,
      nics: (hw?.nics ?? []).map((n, i) => ({ id: String(i + 1), name: n.label, mac: n.mac })),
      disks: (hw?.disks ?? []).map((d) => ({ name: d.label, bytes: d.bytes })),
      secureBoot: fw === "efi" ? (hw?.secureBoot ?? false) : undefined,
      boot: {
        target: TARGET_OF[boot.device],
        enabled: boot.device === "none" ? "Disabled" : boot.persistent ? "Continuous" : "Once",
        mode,
        allowedTargets: TARGETS,
        // The firmware changes only while the VM is off: offer the other mode only then.
        allowedModes: off || !mode ? ["UEFI", "Legacy"] : [mode],
      },
    };
  }

  resetTypes(): ResetType[] {
    return RESETS;
  }

  #fresh(what: string): void {
    if (!this.m.backend.powerState().fresh) {
      throw new RedfishRequestError(503, "ServiceTemporarilyUnavailable", `${what}: vCenter has not confirmed the VM's state within max_staleness; try again shortly.`, { args: ["10"], headers: { "Retry-After": "10" } });
    }
  }

  #queue(key: string, what: string, fn: () => Promise<void>): Promise<void> {
    const busy = this.m.actions.busyWith;
    if (busy && busy !== key) throw new RedfishRequestError(409, "ResourceInUse", `${what}: the VM is busy with "${busy}"; try again when it has finished.`);
    return this.m.actions.run(key, fn).catch((err: unknown) => {
      throw redfishError(err, what);
    });
  }

  async reset(type: ResetType): Promise<"done" | "running"> {
    this.#fresh(`Reset ${type}`);
    const action = resetAction(type, this.powerState() === "On");
    const job = this.#queue(`power:${action}`, `Reset ${type}`, () => runPowerAction(this.m.backend, action));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = new Promise<"running">((resolve) => {
      timer = setTimeout(() => resolve("running"), RESET_WAIT_MS);
    });
    job.catch(() => undefined);
    try {
      return await Promise.race([job.then(() => "done" as const), wait]);
    } finally {
      clearTimeout(timer);
    }
  }

  async patchBoot(patch: BootPatch): Promise<void> {
    const b = this.m.backend;
    this.#fresh("PATCH Boot");
    let current = b.cachedBoot();
    if (!current) {
      try {
        current = await b.getBoot();
      } catch (err) {
        throw redfishError(err, "read boot");
      }
    }
    let efi = b.firmware() === "efi";
    if (patch.mode !== undefined && (patch.mode === "UEFI") !== efi) {
      const fw = patch.mode === "UEFI" ? "efi" : "bios";
      await this.#queue(`firmware:${fw}`, `BootSourceOverrideMode ${patch.mode}`, () => b.setFirmware(fw));
      efi = fw === "efi";
    }
    if (patch.target === undefined && patch.enabled === undefined) return;
    const enabled = patch.enabled ?? (current.device === "none" ? "Once" : current.persistent ? "Continuous" : "Once");
    const target = patch.target ?? TARGET_OF[current.device];
    if (enabled !== "Disabled" && target === "None" && patch.target === undefined) {
      throw new RedfishRequestError(400, "PropertyMissing", "BootSourceOverrideEnabled needs a BootSourceOverrideTarget (none is set).", { args: ["Boot/BootSourceOverrideTarget"], property: "Boot.BootSourceOverrideTarget" });
    }
    const device = enabled === "Disabled" ? "none" : (DEVICE_OF[target] ?? "none");
    const setting: BootSetting = { device, persistent: enabled === "Continuous", efi };
    await this.#queue(`boot:${device}:${setting.persistent}`, "PATCH Boot", () => b.setBoot(setting));
  }

  media(): MediaView[] {
    const media = this.m.media;
    if (!media) return [];
    return media.slots().map((slot) => {
      const st = media.state(slot);
      const id = SLOT_DEVICE[slot];
      return {
        id,
        mediaTypes: MEDIA_TYPES[id],
        image: st.image,
        inserted: st.inserted,
        writeProtected: st.writeProtected,
        connected: st.connected,
        transfer: st.transfer && { state: st.transfer.state, bytes: st.transfer.bytes, total: st.transfer.total, error: st.transfer.error },
      };
    });
  }

  #mediaOf(device: MediaDeviceId) {
    const media = this.m.media;
    const slot = DEVICE_SLOT[device];
    if (!media?.slots().includes(slot)) throw new RedfishRequestError(404, "ResourceNotFound", `This system has no ${device} device.`, { args: ["VirtualMedia", device] });
    return { media, slot };
  }

  async insertMedia(device: MediaDeviceId, req: InsertRequest): Promise<void> {
    const { media, slot } = this.#mediaOf(device);
    const progress = setInterval(() => {
      const t = media.state(slot).transfer;
      if (t?.state === "downloading") this.logger.info("media transfer", { device, bytes: t.bytes, total: t.total });
    }, PROGRESS_LOG_MS);
    progress.unref?.();
    try {
      // Not through the action queue: a download of minutes must not hold up power commands
      // (IPMI's too); the media backend refuses a second insert or eject itself (busy).
      await media.insert(slot, req.image, { username: req.username, password: req.password, writeProtected: req.writeProtected, signal: req.signal }).catch((err: unknown) => {
        throw mediaError(err, `InsertMedia ${device}`);
      });
      mediaInserts.inc({ device, result: "ok" });
      const t = media.state(slot).transfer;
      this.logger.info("media inserted", { device, bytes: t?.bytes, reused: t?.reused });
    } catch (err) {
      mediaInserts.inc({ device, result: String((err as RedfishRequestError).status ?? "error") });
      this.logger.warn("InsertMedia failed", { device, err: (err as Error).message });
      throw err;
    } finally {
      clearInterval(progress);
    }
  }

  async ejectMedia(device: MediaDeviceId): Promise<void> {
    const { media, slot } = this.#mediaOf(device);
    await media.eject(slot).catch((err: unknown) => {
      throw mediaError(err, `EjectMedia ${device}`);
    });
  }
}

/** The Redfish systems: every registered machine with redfish = true. */
export function redfishProvider(registry: MachineRegistry, logger: Logger): RedfishProvider {
  const adapters = new WeakMap<Machine, MachineSystem>();
  let cached: { version: number; list: RedfishSystem[] } | undefined;
  return {
    systems() {
      if (cached?.version === registry.version) return cached.list;
      const list = registry.list().filter((m) => m.redfish).map((m) => {
        let a = adapters.get(m);
        if (!a) {
          a = new MachineSystem(m, logger.child("redfish", { bmc: m.name }));
          adapters.set(m, a);
        }
        return a;
      });
      cached = { version: registry.version, list };
      return list;
    },
  };
}
