// One BMC's VM as seen through its VsphereHub: finding it (and finding it again when its
// moref goes away), the watched properties, whether the power state is fresh enough to be
// answered, and running a call against the VM within deadlines.
//
// Power state is answered only while the hub's watch (or one of our own completed tasks)
// confirmed it within max_staleness.
import type { VmSelector } from "../config/types.ts";
import { BmcBackendError, errorCode } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { str, toBootOptions } from "../vsphere/convert.ts";
import type { MoRef, SoapValue } from "../vsphere/soap/types.ts";
import type { BootOptions, Firmware as VimFirmware, PowerState } from "../vsphere/vim-types.ts";
import type { PowerReading } from "./backend.ts";
import { faultType, UNREACHABLE } from "./vsphere-faults.ts";
import type { HubMember, VsphereHub } from "./vsphere-hub.ts";

export interface VsphereVmLinkOptions {
  hub: VsphereHub;
  /** The hub member this link serves (asked to be resolved again when the VM is gone). */
  member: HubMember;
  /** The BMC's name, for the hub's aggregated stale-read log. */
  bmcName: string;
  selector: VmSelector;
  maxStalenessMs: number;
  logger: Logger;
  /** How long a call waits for the VM to be found (and for a client). */
  resolveTimeoutMs: number;
  now: () => number;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BmcBackendError("unavailable", `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class VsphereVmLink {
  readonly #o: VsphereVmLinkOptions;
  #ref?: MoRef;
  #resolveError?: unknown;
  #waiters = new Set<() => void>();
  #power?: PowerState;
  #firmware?: VimFirmware;
  #vmName?: string;
  #instanceUuid?: string;
  #uuid?: string;
  #bootOptions?: BootOptions;
  /** When one of our own tasks last confirmed the power state. */
  #confirmedAt = 0;
  /** When #power was last set (by the watch, a task or a direct read). */
  #powerSetAt = 0;
  #closed = false;

  constructor(o: VsphereVmLinkOptions) {
    this.#o = o;
  }

  // ------------------------------------------------------------------ from the hub

  resolved(ref: MoRef): void {
    if (!this.#ref || this.#ref.value !== ref.value) this.#o.logger.info("VM found", { vm: ref.value });
    this.#ref = ref;
    this.#resolveError = undefined;
    this.#wake();
  }

  unresolved(err: unknown): void {
    this.#resolveError = err;
    this.#wake();
  }

  /** Apply watched changes. True when the VM was seen powering on by someone else (vSphere Client, HA). */
  update(kind: "enter" | "modify" | "leave", props: Readonly<Record<string, SoapValue>>, changed: readonly string[]): boolean {
    if (kind === "leave") {
      this.#o.logger.warn("VM left the inventory; looking for it again", { vm: this.#ref?.value });
      this.#ref = undefined;
      this.#power = undefined;
      return false;
    }
    const before = this.#power;
    if (changed.includes("runtime.powerState") || kind === "enter") {
      this.#power = str(props["runtime.powerState"]) as PowerState | undefined;
      this.#powerSetAt = this.#o.now();
    }
    if (changed.includes("config.firmware") || kind === "enter") this.#firmware = str(props["config.firmware"]) as VimFirmware | undefined;
    if (changed.includes("name") || kind === "enter") this.#vmName = str(props.name);
    if (changed.includes("config.bootOptions") || kind === "enter") this.#bootOptions = props["config.bootOptions"] === undefined ? undefined : toBootOptions(props["config.bootOptions"]);
    if (changed.includes("config.uuid") || kind === "enter") this.#uuid = str(props["config.uuid"])?.toLowerCase();
    if (changed.includes("config.instanceUuid") || kind === "enter") this.#instanceUuid = str(props["config.instanceUuid"])?.toLowerCase();
    return kind === "modify" && before !== undefined && before !== "poweredOn" && this.#power === "poweredOn";
  }

  #wake(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  // ------------------------------------------------------------------ state

  powerState(opts?: { peek?: boolean }): PowerReading {
    if (!this.#ref || this.#power === undefined) return { state: "unknown", fresh: false };
    const asOf = Math.max(this.#o.hub.lastSyncAt() ?? 0, this.#confirmedAt);
    const fresh = this.#o.now() - asOf <= this.#o.maxStalenessMs;
    // Stale: this read is refused; ask vCenter directly, so the next one need not be.
    if (!fresh && !opts?.peek) this.#o.hub.staleRead(this.#o.bmcName, this.#ref);
    return { state: this.#power === "poweredOn" ? "on" : "off", fresh };
  }

  /** A direct read by the hub: `state` was current at `at` or later. */
  confirmed(state: PowerState, at: number): void {
    // News that arrived after the read was sent (the watch, our own task) is at least as new.
    if (at > this.#powerSetAt) {
      this.#power = state;
      this.#powerSetAt = at;
    }
    this.#confirmedAt = Math.max(this.#confirmedAt, at);
  }

  /** One of our own tasks left the VM in `state`. */
  observed(state: PowerState): void {
    this.#power = state;
    this.#confirmedAt = this.#o.now();
    this.#powerSetAt = this.#confirmedAt;
  }

  /** What vCenter says this VM is (from the watch), to check what a VM's host announces. */
  get identity(): { name?: string; biosUuid?: string; vcUuid?: string } {
    return { name: this.#vmName, biosUuid: this.#uuid, vcUuid: this.#instanceUuid };
  }

  /** config.uuid (BIOS UUID), lower case, from the watch. */
  get uuid(): string | undefined {
    return this.#uuid;
  }

  /** config.bootOptions as the watch last reported it. */
  get bootOptions(): BootOptions | undefined {
    return this.#bootOptions;
  }

  get firmware(): VimFirmware | undefined {
    return this.#firmware;
  }

  /** Boot options we wrote ourselves (the watch reports them too, later). */
  noteBootOptions(options: BootOptions): void {
    this.#bootOptions = options;
  }

  /** Firmware we read or wrote ourselves (the watch reports it too, later). */
  noteFirmware(firmware?: VimFirmware): void {
    this.#firmware = firmware;
  }

  describe(): string {
    const vm = this.#ref ? `${this.#ref.value}${this.#vmName ? ` (${this.#vmName})` : ""}` : this.#resolveError ? "not found" : "looking up";
    const { selector } = this.#o;
    return `${this.#o.hub.vcenter}: ${vm} [${selector.by}=${selector.value}]`;
  }

  // ------------------------------------------------------------------ calls

  async #awaitRef(): Promise<MoRef> {
    if (this.#ref) return this.#ref;
    const { selector } = this.#o;
    const deadline = this.#o.now() + this.#o.resolveTimeoutMs;
    while (!this.#ref) {
      const left = deadline - this.#o.now();
      if (left <= 0 || this.#closed) {
        const why = this.#resolveError instanceof Error ? `: ${this.#resolveError.message}` : "";
        throw new BmcBackendError("unavailable", `VM ${selector.by}=${selector.value} not found${why}`, { cause: this.#resolveError });
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
        throw new BmcBackendError("unavailable", `VM ${selector.by}=${selector.value}: ${(this.#resolveError as Error).message}`);
      }
    }
    return this.#ref;
  }

  /** Run `fn` against the VM; find it again once if vCenter says it is gone. */
  async withVm<T>(what: string, fn: (client: VimClient, vm: MoRef) => Promise<T>): Promise<T> {
    try {
      const ref = await this.#awaitRef();
      const client = await withDeadline(this.#o.hub.client(), this.#o.resolveTimeoutMs, `${what}: connect`);
      try {
        return await fn(client, ref);
      } catch (err) {
        if (faultType(err) !== "ManagedObjectNotFound") throw err;
        this.#o.logger.info("VM reference is gone; looking the VM up again", { vm: ref.value });
        this.#ref = undefined;
        this.#o.hub.requestResolve(this.#o.member);
        return await fn(client, await this.#awaitRef());
      }
    } catch (err) {
      if (UNREACHABLE.has(errorCode(err) ?? "")) throw new BmcBackendError("unavailable", `${what}: vCenter unreachable: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  /** Stop waiting for the VM: pending calls give up at once. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }
}
