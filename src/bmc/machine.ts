// One [[bmc]] machine as every front end sees it: the VM backend, the one action queue that
// serialises its power/boot/media actions (IPMI and Redfish share it), and its virtual media.
// The registry is how the Redfish service finds the machines the BMC services run.
import type { BmcActionQueue } from "./action-queue.ts";
import type { VmBackend } from "./backend.ts";
import type { VirtualMedia } from "./virtual-media.ts";

export interface Machine {
  name: string;
  backend: VmBackend;
  actions: BmcActionQueue;
  media?: VirtualMedia;
  /** Shown as a Redfish ComputerSystem. */
  redfish: boolean;
}

export class MachineRegistry {
  readonly #machines = new Map<string, Machine>();
  #version = 0;

  add(m: Machine): void {
    this.#machines.set(m.name, m);
    this.#version++;
  }

  /** Removes `m` only if it is still the registered machine of that name (a restart may have replaced it). */
  remove(m: Machine): void {
    if (this.#machines.get(m.name) === m) {
      this.#machines.delete(m.name);
      this.#version++;
    }
  }

  list(): Machine[] {
    return [...this.#machines.values()];
  }

  /** Changes whenever a machine comes or goes (lets views cache per-machine adapters). */
  get version(): number {
    return this.#version;
  }
}
