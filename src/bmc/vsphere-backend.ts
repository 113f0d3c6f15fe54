// A VmBackend for one vSphere VM, through the VsphereHub of its vCenter.
//
// - power state: from the hub's WaitForUpdatesEx watch (0 requests per status); answered
//   only while the watch (or our own completed task) confirmed it within max_staleness
//   (vsphere-vm-link.ts, which also finds the VM and runs calls against it).
// - on/off/reset/soft/diag: vsphere-power.ts; cycle: off, then on.
// - boot: vsphere-boot-control.ts (one-shot devices restored after the next power-on or
//   reset, which this backend reports to it).
// Every vSphere call has a deadline (the endpoint's timeout_ms; tasks `taskTimeoutMs`).
import type { VmSelector } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { MoRef, SoapValue } from "../vsphere/soap/types.ts";
import type { PowerState } from "../vsphere/vim-types.ts";
import type { BootSetting, Firmware, PowerReading, VmBackend } from "./backend.ts";
import { type BootRestoreStore, memoryBootRestoreStore } from "./boot-restore-store.ts";
import { VsphereBootControl } from "./vsphere-boot-control.ts";
import type { HubMember, VsphereHub } from "./vsphere-hub.ts";
import { powerOffUnlessOff, powerOnUnlessOn, resetRunningVm, sendNmi, shutdownGuestOs } from "./vsphere-power.ts";
import { VsphereVmLink } from "./vsphere-vm-link.ts";

export interface VsphereBackendOptions {
  hub: VsphereHub;
  bmcName: string;
  selector: VmSelector;
  maxStalenessMs: number;
  logger: Logger;
  /** Where a pending one-shot restore is kept. Default: in memory only. */
  store?: BootRestoreStore;
  /** Deadline for a power or reconfigure task. Default 60 s. */
  taskTimeoutMs?: number;
  /** How long an action waits for the VM to be found. Default 10 s. */
  resolveTimeoutMs?: number;
  /** Delay between the boot that used a one-shot device and restoring the old order. Default 30 s. */
  oneShotRestoreDelayMs?: number;
  now?: () => number;
}

export class VsphereBackend implements VmBackend, HubMember {
  readonly selector: VmSelector;
  readonly maxStalenessMs: number;
  readonly #hub: VsphereHub;
  readonly #taskTimeoutMs: number;
  readonly #vm: VsphereVmLink;
  readonly #boot: VsphereBootControl;

  constructor(o: VsphereBackendOptions) {
    this.selector = o.selector;
    this.maxStalenessMs = o.maxStalenessMs;
    this.#hub = o.hub;
    this.#taskTimeoutMs = o.taskTimeoutMs ?? 60_000;
    const logger = o.logger.child("bmc", { bmc: o.bmcName });
    this.#vm = new VsphereVmLink({
      hub: o.hub,
      member: this,
      bmcName: o.bmcName,
      selector: o.selector,
      maxStalenessMs: o.maxStalenessMs,
      logger,
      resolveTimeoutMs: o.resolveTimeoutMs ?? 10_000,
      now: o.now ?? Date.now,
    });
    this.#boot = new VsphereBootControl({
      link: this.#vm,
      vcenter: o.hub.vcenter,
      selector: o.selector,
      store: o.store ?? memoryBootRestoreStore(),
      logger,
      taskTimeoutMs: this.#taskTimeoutMs,
      restoreDelayMs: o.oneShotRestoreDelayMs ?? 30_000,
    });
    o.hub.join(this);
  }

  // ------------------------------------------------------------------ hub callbacks

  resolved(ref: MoRef): void {
    this.#vm.resolved(ref);
  }

  unresolved(err: unknown): void {
    this.#vm.unresolved(err);
  }

  powerRead(state: string, at: number): void {
    this.#vm.confirmed(state as PowerState, at);
  }

  update(kind: "enter" | "modify" | "leave", props: Readonly<Record<string, SoapValue>>, changed: readonly string[]): void {
    // Powered on by someone else (vSphere Client, HA): that boot used the one-shot device too.
    if (this.#vm.update(kind, props, changed)) this.#boot.armRestore("power-on seen");
  }

  // ------------------------------------------------------------------ state

  powerState(opts?: { peek?: boolean }): PowerReading {
    return this.#vm.powerState(opts);
  }

  firmware(): Firmware | undefined {
    return this.#vm.firmware;
  }

  describe(): string {
    return this.#vm.describe();
  }

  // ------------------------------------------------------------------ power

  async powerOn(): Promise<void> {
    if (await powerOnUnlessOn(this.#vm, this.#taskTimeoutMs)) this.#boot.armRestore("power on");
  }

  async powerOff(): Promise<void> {
    await powerOffUnlessOff(this.#vm, this.#taskTimeoutMs);
  }

  async reset(): Promise<void> {
    await resetRunningVm(this.#vm, this.#taskTimeoutMs);
    this.#boot.armRestore("reset");
  }

  async shutdownGuest(): Promise<void> {
    await shutdownGuestOs(this.#vm);
  }

  async cycle(): Promise<void> {
    await this.powerOff();
    await this.powerOn();
  }

  async nmi(): Promise<void> {
    await sendNmi(this.#vm);
  }

  // ------------------------------------------------------------------ boot

  getBoot(): Promise<BootSetting> {
    return this.#boot.getBoot();
  }

  setBoot(setting: BootSetting): Promise<void> {
    return this.#boot.setBoot(setting);
  }

  /** Test hook: run a due restore now. */
  restoreNow(): Promise<void> {
    return this.#boot.restore();
  }

  async close(): Promise<void> {
    this.#boot.close();
    this.#vm.close();
    await this.#hub.leave(this);
  }
}
