// Boot overrides on one vSphere VM, and the one-shot emulation (see vsphere-boot.ts for the
// mapping): a one-shot device is set now and the previous bootOrder is put back
// `restoreDelayMs` after the next power-on or reset. The pending restore is persisted
// (boot-restore-store.ts) so a restart does not lose it. Reading the boot configuration
// costs one request (rare; never stale). Boot reconfigurations (ours and the restore) run
// one at a time.
import type { VmSelector } from "../config/types.ts";
import { BmcBackendError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { fromBootOptions, moref } from "../vsphere/convert.ts";
import type { MoRef, SoapObject } from "../vsphere/soap/types.ts";
import { waitForTask } from "../vsphere/tasks.ts";
import type { BootOptions, Firmware as VimFirmware } from "../vsphere/vim-types.ts";
import { getBootConfig, listDevices } from "../vsphere/vm.ts";
import type { BootSetting } from "./backend.ts";
import type { BootRestoreStore, PendingBootRestore } from "./boot-restore-store.ts";
import { bootOptionsFor, deviceOfBootOptions } from "./vsphere-boot.ts";
import type { VsphereVmLink } from "./vsphere-vm-link.ts";

export interface VsphereBootControlOptions {
  link: VsphereVmLink;
  vcenter: string;
  selector: VmSelector;
  store: BootRestoreStore;
  logger: Logger;
  /** Deadline for a reconfigure task. */
  taskTimeoutMs: number;
  /** Delay between the boot that used a one-shot device and restoring the old order. */
  restoreDelayMs: number;
}

/** ReconfigVM_Task for boot options (and firmware). An empty bootOrder is sent as one base
 * BootableDevice: an empty list would mean "unchanged" on the wire. */
async function reconfigBoot(client: VimClient, vm: MoRef, boot: BootOptions, firmware: VimFirmware | undefined, timeoutMs: number): Promise<void> {
  const bootOptions = fromBootOptions(boot);
  if (boot.bootOrder?.length === 0) bootOptions.bootOrder = [{ $type: "VirtualMachineBootOptionsBootableDevice" }];
  const spec: SoapObject = { $type: "VirtualMachineConfigSpec", bootOptions };
  if (firmware) spec.firmware = firmware;
  const task = moref(await client.call("ReconfigVM_Task", vm, { spec }));
  if (!task) throw new Error("ReconfigVM_Task returned no task");
  await waitForTask(client, task, { timeoutMs });
}

export class VsphereBootControl {
  readonly #o: VsphereBootControlOptions;
  readonly #link: VsphereVmLink;
  readonly #store: BootRestoreStore;
  readonly #logger: Logger;
  #pending?: PendingBootRestore;
  #restoreTimer?: ReturnType<typeof setTimeout>;
  #bootChain: Promise<void> = Promise.resolve();
  #inFlightBoot?: BootSetting;
  #closed = false;

  /** Picks up a pending restore saved for this VM (one saved for another VM is dropped). */
  constructor(o: VsphereBootControlOptions) {
    this.#o = o;
    this.#link = o.link;
    this.#store = o.store;
    this.#logger = o.logger;
    const saved = this.#store.load();
    if (saved && saved.vcenter === o.vcenter && saved.vm.by === o.selector.by && saved.vm.value === o.selector.value) {
      this.#pending = saved;
      this.#logger.info("pending one-shot boot restore loaded", { device: saved.setting.device, armed: saved.armed });
      if (saved.armed) this.#scheduleRestore();
    } else if (saved) {
      this.#store.clear();
    }
  }

  /**
   * The boot configuration, read from vCenter: boot reads are rare, and a read cannot be
   * overtaken by a late watch update the way a cached copy can. Known-but-stale means
   * vCenter has not answered the watch within max_staleness, so a read would most likely run
   * into its deadline: say "unavailable" at once instead.
   */
  async #bootConfig(): Promise<{ bootOptions: BootOptions; firmware?: VimFirmware }> {
    const p = this.#link.powerState();
    if (p.state !== "unknown" && !p.fresh) throw new BmcBackendError("unavailable", "boot options: vCenter has not been heard from within max_staleness");
    const cfg = await this.#link.withVm("read boot options", (c, vm) => getBootConfig(c, vm));
    this.#link.noteFirmware(cfg.firmware);
    return cfg;
  }

  async getBoot(): Promise<BootSetting> {
    const inFlight = this.#inFlightBoot;
    const cfg = await this.#bootConfig();
    const efi = cfg.firmware === "efi";
    if (inFlight) return { ...inFlight, persistent: inFlight.persistent && inFlight.device !== "bios", efi };
    if (this.#pending) return { device: this.#pending.setting.device, persistent: false, efi };
    return { ...deviceOfBootOptions(cfg.bootOptions), efi };
  }

  #serialBoot<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#bootChain.then(fn);
    this.#bootChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  setBoot(setting: BootSetting): Promise<void> {
    return this.#serialBoot(async () => {
      this.#inFlightBoot = setting;
      try {
        await this.#link.withVm("set boot device", async (c, vm) => {
          const current = await getBootConfig(c, vm);
          const needsDevices = setting.device === "pxe" || setting.device === "disk" || setting.device === "safe";
          const next = bootOptionsFor(setting.device, current.bootOptions, needsDevices ? await listDevices(c, vm) : []);
          const p = this.#link.powerState();
          const wanted: VimFirmware = setting.efi ? "efi" : "bios";
          // Firmware follows the EFI flag of a persistent request, and only while powered off
          // (vSphere refuses the change under a running guest).
          const firmware = setting.persistent && setting.device !== "none" && p.fresh && p.state === "off" && current.firmware !== wanted ? wanted : undefined;
          if (setting.persistent && setting.device !== "none" && !firmware && current.firmware !== wanted) {
            this.#logger.info("EFI flag differs from the VM's firmware; firmware left unchanged", { firmware: current.firmware, power: p.state });
          }
          const oneShot = !setting.persistent && setting.device !== "none" && setting.device !== "bios";
          if (oneShot) {
            this.#cancelRestoreTimer();
            const previous = this.#pending;
            this.#pending = {
              vcenter: this.#o.vcenter,
              vm: this.#o.selector,
              setting: { ...setting },
              restoreBootOrder: this.#pending?.restoreBootOrder ?? current.bootOptions.bootOrder ?? [],
              armed: false,
            };
            try {
              this.#store.save(this.#pending);
            } catch (err) {
              // Without the note a restart would leave the VM booting from the one-shot device for good.
              this.#pending = previous;
              this.#logger.error("one-shot boot device refused: the boot restore note cannot be written; boot order left unchanged", { path: (err as { path?: string }).path, error: err });
              throw err;
            }
          } else if (setting.device !== "bios") {
            this.#clearPending();
          }
          await reconfigBoot(c, vm, next, firmware, this.#o.taskTimeoutMs);
          this.#link.noteFirmware(firmware ?? current.firmware);
        });
      } finally {
        this.#inFlightBoot = undefined;
      }
    });
  }

  /** The VM booted (power-on or reset): a pending one-shot device has been used. */
  armRestore(reason: string): void {
    if (!this.#pending || this.#pending.armed || this.#closed) return;
    this.#pending.armed = true;
    try {
      this.#store.save(this.#pending);
    } catch (err) {
      // The restore still runs from memory; only a restart before it would lose it.
      this.#logger.error("cannot update the boot restore note", { path: (err as { path?: string }).path, error: err });
    }
    this.#logger.info("one-shot boot device used; previous boot order will be restored", { reason, device: this.#pending.setting.device });
    this.#scheduleRestore();
  }

  #scheduleRestore(delayMs = this.#o.restoreDelayMs): void {
    this.#cancelRestoreTimer();
    this.#restoreTimer = setTimeout(() => void this.restore(), delayMs);
    this.#restoreTimer.unref?.();
  }

  #cancelRestoreTimer(): void {
    clearTimeout(this.#restoreTimer);
    this.#restoreTimer = undefined;
  }

  #clearPending(): void {
    this.#cancelRestoreTimer();
    if (this.#pending) this.#store.clear();
    this.#pending = undefined;
  }

  /** Put the pre-one-shot boot order back; retried until it works or something replaces it. */
  restore(): Promise<void> {
    return this.#serialBoot(async () => {
      const pending = this.#pending;
      if (!pending?.armed || this.#closed) return;
      try {
        await this.#link.withVm("restore boot order", async (c, vm) => {
          const current = await getBootConfig(c, vm);
          const next: BootOptions = { ...current.bootOptions, bootOrder: pending.restoreBootOrder };
          await reconfigBoot(c, vm, next, undefined, this.#o.taskTimeoutMs);
        });
        if (this.#pending === pending) this.#clearPending();
        this.#logger.info("boot order restored after one-shot boot", { device: pending.setting.device });
      } catch (err) {
        this.#logger.warn("restoring the boot order failed; will retry", { err });
        if (this.#pending === pending) this.#scheduleRestore(30_000);
      }
    });
  }

  /** No further restores; a pending one stays in the store for the next start. */
  close(): void {
    this.#closed = true;
    this.#cancelRestoreTimer();
  }
}
