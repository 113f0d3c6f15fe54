// The two backends consumer tests run against: in memory, and a simulator VM through the
// vSphere backend ("in front of the simulator"). Tests arrange and check the machine's
// real state through this adapter, never through the BMC under test.
import type { VmBackend } from "../../../src/bmc/backend.ts";
import { MemoryBackend } from "../../../src/bmc/memory-backend.ts";
import type { VsphereBackendOptions } from "../../../src/bmc/vsphere-backend.ts";
import { deviceOfBootOptions } from "../../../src/bmc/vsphere-boot.ts";
import type { VimClient } from "../../../src/vsphere/client.ts";
import { queryEvents } from "../../../src/vsphere/events.ts";
import { listVms, type VmIdentity } from "../../../src/vsphere/search.ts";
import { getBootConfig, getPowerState, powerOffVm, powerOnVm, reconfigVm } from "../../../src/vsphere/vm.ts";
import { startVsphereBmcFixture, type VsphereBmcFixture, waitFor } from "./vsphere.ts";

export type BackendKind = "memory" | "vsphere";
export const BACKEND_KINDS: BackendKind[] = ["memory", "vsphere"];

export interface Machine {
  kind: BackendKind;
  backend: VmBackend;
  /** The hypervisor's power state. */
  power(): Promise<"on" | "off">;
  setPower(state: "on" | "off"): Promise<void>;
  /** What the VM boots from next, as the hypervisor has it (pxe, disk, cdrom, bios, none). */
  nextBoot(): Promise<string>;
  firmware(): Promise<"bios" | "efi">;
  setFirmware(f: "bios" | "efi"): Promise<void>;
  /** Clear any boot override. */
  resetBoot(): Promise<void>;
  /** Wait until the BMC's view of the power state is current and equals `state`. */
  settled(state: "on" | "off"): Promise<void>;
  /** How many times the VM has started (power-on, reset, cycle). */
  bootCount(): Promise<number>;
}

export interface MachineLab {
  /** A fresh machine; for vSphere the next unused simulator VM. */
  machine(opts?: { power?: "on" | "off"; over?: Partial<VsphereBackendOptions> }): Promise<Machine>;
  /** vCenter HTTP requests so far (vSphere only; 0 for memory). */
  vcenterRequests(): number;
  /** Make vCenter stop answering (SIGSTOP the simulator) and answer again (vSphere only). */
  freeze(): void;
  thaw(): void;
  cleanup(): Promise<void>;
}

function memoryMachine(power: "on" | "off"): Machine {
  const b = new MemoryBackend({ power });
  return {
    kind: "memory",
    backend: b,
    power: async () => b.power,
    setPower: async (s) => {
      b.power = s;
    },
    nextBoot: async () => (b.oneShot ?? b.persistentBoot).device,
    firmware: async () => b.firmwareType,
    setFirmware: async (f) => {
      b.firmwareType = f;
    },
    resetBoot: async () => {
      b.oneShot = undefined;
      b.persistentBoot = { device: "none", persistent: false, efi: false };
    },
    settled: async (s) => {
      await waitFor(() => b.power === s, `memory VM ${s}`);
    },
    bootCount: async () => b.boots.length,
  };
}

function vsphereMachine(fx: VsphereBmcFixture, c: VimClient, vm: VmIdentity, over: Partial<VsphereBackendOptions>): Machine {
  const b = fx.backend({ by: "name", value: vm.name }, over);
  const m: Machine = {
    kind: "vsphere",
    backend: b,
    power: async () => ((await getPowerState(c, vm.ref)) === "poweredOn" ? "on" : "off"),
    setPower: async (s) => {
      const now = await getPowerState(c, vm.ref);
      if (s === "on" && now !== "poweredOn") await powerOnVm(c, vm.ref);
      if (s === "off" && now === "poweredOn") await powerOffVm(c, vm.ref);
      await m.settled(s);
    },
    nextBoot: async () => deviceOfBootOptions((await getBootConfig(c, vm.ref)).bootOptions).device,
    firmware: async () => ((await getBootConfig(c, vm.ref)).firmware === "efi" ? "efi" : "bios"),
    setFirmware: async (f) => {
      await reconfigVm(c, vm.ref, { firmware: f });
    },
    resetBoot: async () => {
      await b.setBoot({ device: "none", persistent: true, efi: false });
    },
    settled: async (s) => {
      await waitFor(() => b.powerState().fresh && b.powerState().state === s, `BMC sees ${vm.name} ${s}`, 15_000);
    },
    // The simulator posts VmPoweredOnEvent for every power-on, including the one inside a reset.
    bootCount: async () => (await queryEvents(c, { entity: vm.ref, eventTypeIds: ["VmPoweredOnEvent"], maxCount: 1000 })).length,
  };
  return m;
}

export async function startLab(kind: BackendKind, vmCount = 8): Promise<MachineLab> {
  if (kind === "memory") {
    const none = () => {
      throw new Error("the memory lab has no vCenter");
    };
    return { machine: async (o = {}) => memoryMachine(o.power ?? "off"), vcenterRequests: () => 0, freeze: none, thaw: none, cleanup: async () => {} };
  }
  const fx = await startVsphereBmcFixture({ args: ["-vm", String(Math.ceil(vmCount / 2))] });
  const c = await fx.pool.get("vc1");
  const vms = (await listVms(c)).sort((a, b) => a.name.localeCompare(b.name));
  let next = 0;
  return {
    async machine(o = {}) {
      const vm = vms[next++];
      if (!vm) throw new Error(`the simulator has only ${vms.length} VMs`);
      const m = vsphereMachine(fx, c, vm, o.over ?? {});
      await m.setPower(o.power ?? "off");
      return m;
    },
    vcenterRequests: () => c.stats.requests,
    freeze: () => fx.sim.proc.kill("SIGSTOP"),
    thaw: () => fx.sim.proc.kill("SIGCONT"),
    cleanup: () => fx.cleanup(),
  };
}
