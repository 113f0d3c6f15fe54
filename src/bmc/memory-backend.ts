// An in-memory machine behind a BMC: for tests and `esxkit demo`. It follows the same
// rules as the vSphere backend (a one-shot boot device is consumed by the next power-on
// or reset; the EFI flag of a persistent request sets the firmware, only while powered
// off) so tests of the IPMI side hold for both.
import { BmcBackendError } from "../errors.ts";
import type { BootSetting, Firmware, MachineHardware, PowerReading, VmBackend } from "./backend.ts";

export interface MemoryBackendOptions {
  name?: string;
  power?: "on" | "off";
  firmware?: Firmware;
  boot?: BootSetting;
  /** Simulated duration of each action. Default 0. */
  actionDelayMs?: number;
  /** Can a diagnostic interrupt be delivered? Default true. */
  nmi?: boolean;
  /** Is a guest agent running (soft shutdown possible)? Default true. */
  guestTools?: boolean;
  uuid?: string;
  hardware?: MachineHardware;
}

const NO_OVERRIDE = (efi: boolean): BootSetting => ({ device: "none", persistent: false, efi });

export class MemoryBackend implements VmBackend {
  readonly name: string;
  power: "on" | "off";
  firmwareType: Firmware;
  /** What the next boot uses when no one-shot override is pending. */
  persistentBoot: BootSetting;
  oneShot?: BootSetting;
  /** Devices the machine booted from, in order (tests assert on this). */
  readonly boots: string[] = [];
  /** Every action, in order. */
  readonly history: string[] = [];
  nmiCount = 0;
  /** false simulates an unreachable hypervisor: power state becomes stale. */
  reachable = true;
  readonly #opts: MemoryBackendOptions;

  constructor(opts: MemoryBackendOptions = {}) {
    this.#opts = opts;
    this.name = opts.name ?? "memory-vm";
    this.power = opts.power ?? "off";
    this.firmwareType = opts.firmware ?? "bios";
    this.persistentBoot = opts.boot ?? NO_OVERRIDE(this.firmwareType === "efi");
  }

  powerState(): PowerReading {
    return this.reachable ? { state: this.power, fresh: true } : { state: this.power, fresh: false };
  }

  async #step(what: string): Promise<void> {
    if (!this.reachable) throw new BmcBackendError("unavailable", `${this.name}: hypervisor unreachable`);
    this.history.push(what);
    const ms = this.#opts.actionDelayMs ?? 0;
    if (ms > 0) await Bun.sleep(ms);
  }

  #boot(): void {
    const setting = this.oneShot ?? this.persistentBoot;
    this.boots.push(`${setting.device}:${this.firmwareType}`);
    this.oneShot = undefined;
  }

  async powerOn(): Promise<void> {
    await this.#step("on");
    if (this.power === "on") return;
    this.power = "on";
    this.#boot();
  }

  async powerOff(): Promise<void> {
    await this.#step("off");
    this.power = "off";
  }

  async reset(): Promise<void> {
    await this.#step("reset");
    if (this.power !== "on") throw new BmcBackendError("invalid_state", `${this.name}: cannot reset a powered-off VM`);
    this.#boot();
  }

  async shutdownGuest(): Promise<void> {
    await this.#step("soft");
    if (this.#opts.guestTools === false) throw new BmcBackendError("invalid_state", `${this.name}: no guest agent running`);
    this.power = "off";
  }

  async cycle(): Promise<void> {
    await this.powerOff();
    await this.powerOn();
  }

  async rebootGuest(): Promise<void> {
    await this.#step("reboot");
    if (this.#opts.guestTools === false) throw new BmcBackendError("invalid_state", `${this.name}: no guest agent running`);
    if (this.power !== "on") throw new BmcBackendError("invalid_state", `${this.name}: cannot reboot a powered-off VM`);
    this.#boot();
  }

  async setFirmware(firmware: Firmware): Promise<void> {
    await this.#step(`firmware ${firmware}`);
    if (this.power === "on" && firmware !== this.firmwareType) throw new BmcBackendError("invalid_state", `${this.name}: the firmware can only change while powered off`);
    this.firmwareType = firmware;
  }

  biosUuid(): string | undefined {
    return this.#opts.uuid;
  }

  async hardware(): Promise<MachineHardware> {
    return this.#opts.hardware ?? { cpus: 2, memoryMiB: 4096, nics: [{ label: "Network adapter 1", mac: "00:50:56:00:00:01" }], disks: [{ label: "Hard disk 1", bytes: 16 << 30 }] };
  }

  async nmi(): Promise<void> {
    if (this.#opts.nmi === false) throw new BmcBackendError("unsupported", `${this.name}: NMI cannot be delivered`);
    await this.#step("nmi");
    this.nmiCount++;
  }

  async getBoot(): Promise<BootSetting> {
    if (!this.reachable) throw new BmcBackendError("unavailable", `${this.name}: hypervisor unreachable`);
    const efi = this.firmwareType === "efi";
    if (this.oneShot) return { ...this.oneShot, persistent: false, efi };
    return { ...this.persistentBoot, efi };
  }

  cachedBoot(): BootSetting | undefined {
    const efi = this.firmwareType === "efi";
    return this.oneShot ? { ...this.oneShot, persistent: false, efi } : { ...this.persistentBoot, efi };
  }

  async setBoot(setting: BootSetting): Promise<void> {
    await this.#step(`boot ${setting.device}${setting.persistent ? " persistent" : ""}${setting.efi ? " efi" : ""}`);
    // Firmware cannot change under a running guest, and a one-shot request must not
    // leave a lasting change behind.
    if (setting.persistent && this.power === "off") this.firmwareType = setting.efi ? "efi" : "bios";
    if (setting.device === "none") {
      this.oneShot = undefined;
      this.persistentBoot = NO_OVERRIDE(false);
    } else if (setting.persistent) {
      this.oneShot = undefined;
      this.persistentBoot = { ...setting };
    } else {
      this.oneShot = { ...setting };
    }
  }

  firmware(): Firmware {
    return this.firmwareType;
  }

  describe(): string {
    return `memory:${this.name}`;
  }

  async close(): Promise<void> {}
}
