// A VmBackend for one vSphere VM, through the VsphereHub of its vCenter.
//
// - power state: from the hub's WaitForUpdatesEx watch (0 requests per status); answered
//   only while the watch (or our own completed task) confirmed it within max_staleness.
// - on/off/reset: PowerOnVM_Task/PowerOffVM_Task/ResetVM_Task, awaited to the task's end;
//   soft: ShutdownGuest (needs VMware Tools; without them D5h); cycle: off, then on.
// - diag: SendNMI on the VM; where the server does not know the method (older vSphere, the
//   simulator) the request is refused with D6h "sub-function unavailable".
// - boot: see vsphere-boot.ts. Reading it costs one request (rare; never stale). A one-shot device is set now and the previous bootOrder is
//   put back `oneShotRestoreDelayMs` after the next power-on or reset; the pending restore
//   is persisted so a restart does not lose it.
// Every vSphere call has a deadline (the endpoint's timeout_ms; tasks `taskTimeoutMs`).
import type { VmSelector } from "../config/types.ts";
import { BmcBackendError, errorCode } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { fromBootOptions, moref, str, toBootOptions } from "../vsphere/convert.ts";
import type { MoRef, SoapObject, SoapValue } from "../vsphere/soap/types.ts";
import { waitForTask } from "../vsphere/tasks.ts";
import type { BootOptions, Firmware as VimFirmware, PowerState } from "../vsphere/vim-types.ts";
import { getBootConfig, isInvalidPowerState, listDevices, powerOffVm, powerOnVm, resetVm, shutdownGuest } from "../vsphere/vm.ts";
import type { BootSetting, Firmware, PowerReading, VmBackend } from "./backend.ts";
import { type BootRestoreStore, memoryBootRestoreStore, type PendingBootRestore } from "./boot-restore-store.ts";
import type { HubMember, VsphereHub } from "./vsphere-hub.ts";
import { bootOptionsFor, deviceOfBootOptions } from "./vsphere-boot.ts";

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

/** Faults that mean the server cannot deliver an NMI. */
const NMI_UNSUPPORTED = new Set(["MethodNotFound", "NotSupported", "NotImplemented", "InvalidRequest"]);
/** Error codes that mean vCenter could not be reached in time. */
const UNREACHABLE = new Set(["ESX_CONNECT", "ESX_DEADLINE", "ESX_TLS_VERIFY", "ESX_TLS_PIN", "ESX_HTTP_STATUS"]);

function faultType(err: unknown): string | undefined {
  const f = (err as { faultType?: unknown } | null)?.faultType;
  return typeof f === "string" ? f : undefined;
}

function existingState(err: unknown): string | undefined {
  const d = (err as { detail?: Record<string, unknown> } | null)?.detail;
  return typeof d?.existingState === "string" ? d.existingState : undefined;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BmcBackendError("unavailable", `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
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

export class VsphereBackend implements VmBackend, HubMember {
  readonly selector: VmSelector;
  readonly maxStalenessMs: number;
  readonly #o: VsphereBackendOptions;
  readonly #logger: Logger;
  readonly #store: BootRestoreStore;
  readonly #now: () => number;
  #ref?: MoRef;
  #resolveError?: unknown;
  #waiters = new Set<() => void>();
  #power?: PowerState;
  #bootOptions?: BootOptions;
  #firmware?: VimFirmware;
  #vmName?: string;
  /** When one of our own tasks last confirmed the power state. */
  #confirmedAt = 0;
  #pending?: PendingBootRestore;
  #restoreTimer?: ReturnType<typeof setTimeout>;
  #bootChain: Promise<void> = Promise.resolve();
  #inFlightBoot?: BootSetting;
  #closed = false;

  constructor(o: VsphereBackendOptions) {
    this.#o = o;
    this.selector = o.selector;
    this.maxStalenessMs = o.maxStalenessMs;
    this.#logger = o.logger.child("bmc", { bmc: o.bmcName });
    this.#store = o.store ?? memoryBootRestoreStore();
    this.#now = o.now ?? Date.now;
    const saved = this.#store.load();
    if (saved && saved.vcenter === o.hub.vcenter && saved.vm.by === o.selector.by && saved.vm.value === o.selector.value) {
      this.#pending = saved;
      this.#logger.info("pending one-shot boot restore loaded", { device: saved.setting.device, armed: saved.armed });
      if (saved.armed) this.#scheduleRestore();
    } else if (saved) {
      this.#store.clear();
    }
    o.hub.join(this);
  }

  // ------------------------------------------------------------------ hub callbacks

  resolved(ref: MoRef): void {
    if (!this.#ref || this.#ref.value !== ref.value) this.#logger.info("VM found", { vm: ref.value });
    this.#ref = ref;
    this.#resolveError = undefined;
    this.#wake();
  }

  unresolved(err: unknown): void {
    this.#resolveError = err;
    this.#wake();
  }

  update(kind: "enter" | "modify" | "leave", props: Readonly<Record<string, SoapValue>>, changed: readonly string[]): void {
    if (kind === "leave") {
      this.#logger.warn("VM left the inventory; looking for it again", { vm: this.#ref?.value });
      this.#ref = undefined;
      this.#power = undefined;
      return;
    }
    const before = this.#power;
    if (changed.includes("runtime.powerState") || kind === "enter") this.#power = str(props["runtime.powerState"]) as PowerState | undefined;
    if (changed.includes("config.bootOptions") || kind === "enter") this.#bootOptions = toBootOptions(props["config.bootOptions"]);
    if (changed.includes("config.firmware") || kind === "enter") this.#firmware = str(props["config.firmware"]) as VimFirmware | undefined;
    if (changed.includes("name") || kind === "enter") this.#vmName = str(props.name);
    // Powered on by someone else (vSphere Client, HA): that boot used the one-shot device too.
    if (kind === "modify" && before !== undefined && before !== "poweredOn" && this.#power === "poweredOn") this.#armRestore("power-on seen");
  }

  #wake(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  // ------------------------------------------------------------------ state

  powerState(): PowerReading {
    if (!this.#ref || this.#power === undefined) return { state: "unknown", fresh: false };
    const asOf = Math.max(this.#o.hub.lastSyncAt() ?? 0, this.#confirmedAt);
    return { state: this.#power === "poweredOn" ? "on" : "off", fresh: this.#now() - asOf <= this.maxStalenessMs };
  }

  firmware(): Firmware | undefined {
    return this.#firmware;
  }

  describe(): string {
    const vm = this.#ref ? `${this.#ref.value}${this.#vmName ? ` (${this.#vmName})` : ""}` : this.#resolveError ? "not found" : "looking up";
    return `${this.#o.hub.vcenter}: ${vm} [${this.selector.by}=${this.selector.value}]`;
  }

  #observed(state: PowerState): void {
    this.#power = state;
    this.#confirmedAt = this.#now();
  }

  // ------------------------------------------------------------------ calls

  async #awaitRef(): Promise<MoRef> {
    if (this.#ref) return this.#ref;
    const timeoutMs = this.#o.resolveTimeoutMs ?? 10_000;
    const deadline = this.#now() + timeoutMs;
    while (!this.#ref) {
      const left = deadline - this.#now();
      if (left <= 0 || this.#closed) {
        const why = this.#resolveError instanceof Error ? `: ${this.#resolveError.message}` : "";
        throw new BmcBackendError("unavailable", `VM ${this.selector.by}=${this.selector.value} not found${why}`, { cause: this.#resolveError });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
      // A definite "not found" answers at once instead of waiting out the deadline.
      if (!this.#ref && ["ESX_NOT_FOUND", "ESX_AMBIGUOUS"].includes(errorCode(this.#resolveError) ?? "")) {
        throw new BmcBackendError("unavailable", `VM ${this.selector.by}=${this.selector.value}: ${(this.#resolveError as Error).message}`);
      }
    }
    return this.#ref;
  }

  /** Run `fn` against the VM; find it again once if vCenter says it is gone. */
  async #withVm<T>(what: string, fn: (client: VimClient, vm: MoRef) => Promise<T>): Promise<T> {
    try {
      const ref = await this.#awaitRef();
      const client = await withDeadline(this.#o.hub.client(), this.#o.resolveTimeoutMs ?? 10_000, `${what}: connect`);
      try {
        return await fn(client, ref);
      } catch (err) {
        if (faultType(err) !== "ManagedObjectNotFound") throw err;
        this.#logger.info("VM reference is gone; looking the VM up again", { vm: ref.value });
        this.#ref = undefined;
        this.#o.hub.requestResolve(this);
        return await fn(client, await this.#awaitRef());
      }
    } catch (err) {
      if (UNREACHABLE.has(errorCode(err) ?? "")) throw new BmcBackendError("unavailable", `${what}: vCenter unreachable: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  get #taskTimeoutMs(): number {
    return this.#o.taskTimeoutMs ?? 60_000;
  }

  // ------------------------------------------------------------------ power

  async powerOn(): Promise<void> {
    const p = this.powerState();
    if (p.fresh && p.state === "on") return;
    await this.#withVm("power on", async (c, vm) => {
      try {
        await powerOnVm(c, vm, { timeoutMs: this.#taskTimeoutMs });
      } catch (err) {
        if (!(isInvalidPowerState(err) && existingState(err) === "poweredOn")) throw err;
      }
    });
    this.#observed("poweredOn");
    this.#armRestore("power on");
  }

  async powerOff(): Promise<void> {
    const p = this.powerState();
    if (p.fresh && p.state === "off") return;
    await this.#withVm("power off", async (c, vm) => {
      try {
        await powerOffVm(c, vm, { timeoutMs: this.#taskTimeoutMs });
      } catch (err) {
        if (!(isInvalidPowerState(err) && existingState(err) === "poweredOff")) throw err;
      }
    });
    this.#observed("poweredOff");
  }

  async reset(): Promise<void> {
    await this.#withVm("reset", async (c, vm) => {
      try {
        await resetVm(c, vm, { timeoutMs: this.#taskTimeoutMs });
      } catch (err) {
        if (isInvalidPowerState(err)) throw new BmcBackendError("invalid_state", "reset: the VM is not powered on", { cause: err });
        throw err;
      }
    });
    this.#observed("poweredOn");
    this.#armRestore("reset");
  }

  async shutdownGuest(): Promise<void> {
    await this.#withVm("soft shutdown", async (c, vm) => {
      try {
        await shutdownGuest(c, vm);
      } catch (err) {
        if (isInvalidPowerState(err) && existingState(err) !== "poweredOn") return;
        throw err;
      }
    });
  }

  async cycle(): Promise<void> {
    await this.powerOff();
    await this.powerOn();
  }

  async nmi(): Promise<void> {
    await this.#withVm("diagnostic interrupt", async (c, vm) => {
      try {
        await c.call("SendNMI", vm);
      } catch (err) {
        const f = faultType(err);
        if (f && NMI_UNSUPPORTED.has(f)) throw new BmcBackendError("unsupported", `diagnostic interrupt: ${c.endpoint.name} cannot send an NMI (${f})`, { cause: err });
        throw err;
      }
    });
  }

  // ------------------------------------------------------------------ boot

  /**
   * The boot configuration, read from vCenter: boot reads are rare, and a read cannot be
   * overtaken by a late watch update the way a cached copy can. Known-but-stale means
   * vCenter has not answered the watch within max_staleness, so a read would most likely run
   * into its deadline: say "unavailable" at once instead.
   */
  async #bootConfig(): Promise<{ bootOptions: BootOptions; firmware?: VimFirmware }> {
    const p = this.powerState();
    if (p.state !== "unknown" && !p.fresh) throw new BmcBackendError("unavailable", "boot options: vCenter has not been heard from within max_staleness");
    const cfg = await this.#withVm("read boot options", (c, vm) => getBootConfig(c, vm));
    this.#bootOptions = cfg.bootOptions;
    this.#firmware = cfg.firmware;
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

  /** Boot reconfigurations (ours and the restore) run one at a time. */
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
        await this.#withVm("set boot device", async (c, vm) => {
          const current = await getBootConfig(c, vm);
          const needsDevices = setting.device === "pxe" || setting.device === "disk" || setting.device === "safe";
          const next = bootOptionsFor(setting.device, current.bootOptions, needsDevices ? await listDevices(c, vm) : []);
          const p = this.powerState();
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
            this.#pending = {
              vcenter: this.#o.hub.vcenter,
              vm: this.selector,
              setting: { ...setting },
              restoreBootOrder: this.#pending?.restoreBootOrder ?? current.bootOptions.bootOrder ?? [],
              armed: false,
            };
            this.#store.save(this.#pending);
          } else if (setting.device !== "bios") {
            this.#clearPending();
          }
          await reconfigBoot(c, vm, next, firmware, this.#taskTimeoutMs);
          this.#bootOptions = next;
          this.#firmware = firmware ?? current.firmware;
        });
      } finally {
        this.#inFlightBoot = undefined;
      }
    });
  }

  #armRestore(reason: string): void {
    if (!this.#pending || this.#pending.armed || this.#closed) return;
    this.#pending.armed = true;
    this.#store.save(this.#pending);
    this.#logger.info("one-shot boot device used; previous boot order will be restored", { reason, device: this.#pending.setting.device });
    this.#scheduleRestore();
  }

  #scheduleRestore(delayMs = this.#o.oneShotRestoreDelayMs ?? 30_000): void {
    this.#cancelRestoreTimer();
    this.#restoreTimer = setTimeout(() => void this.#restore(), delayMs);
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
  #restore(): Promise<void> {
    return this.#serialBoot(async () => {
      const pending = this.#pending;
      if (!pending?.armed || this.#closed) return;
      try {
        await this.#withVm("restore boot order", async (c, vm) => {
          const current = await getBootConfig(c, vm);
          const next: BootOptions = { ...current.bootOptions, bootOrder: pending.restoreBootOrder };
          await reconfigBoot(c, vm, next, undefined, this.#taskTimeoutMs);
          this.#bootOptions = next;
        });
        if (this.#pending === pending) this.#clearPending();
        this.#logger.info("boot order restored after one-shot boot", { device: pending.setting.device });
      } catch (err) {
        this.#logger.warn("restoring the boot order failed; will retry", { err });
        if (this.#pending === pending) this.#scheduleRestore(30_000);
      }
    });
  }

  /** Test hook: run a due restore now. */
  restoreNow(): Promise<void> {
    return this.#restore();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRestoreTimer();
    this.#wake();
    await this.#o.hub.leave(this);
  }
}
