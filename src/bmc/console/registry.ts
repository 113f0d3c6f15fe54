// Which [[bmc]] a VM's incoming serial connection belongs to. A VM wired by esxkit names its
// BMC in its serviceURI; a VM wired by hand is matched by the identity its host announces
// (name, BIOS UUID or vCenter instance UUID, whichever the [[bmc]] selects the VM by). The
// announced identity must never contradict the [[bmc]]'s selector: a copied serviceURI on
// another VM is refused, not attached to the wrong console.
import type { VmSelector } from "../../config/types.ts";
import type { MachineConsole } from "./machine-console.ts";

/** What a VM's host says about the VM (the vSPC's VM identity sub-options). */
export interface AnnouncedVm {
  serviceUri: string;
  name?: string;
  biosUuid?: string;
  vcUuid?: string;
}

export interface ConsoleEntry {
  console: MachineConsole;
  /** The serviceURI esxkit writes into this VM's serial port. */
  serviceUri: string;
  vm: VmSelector;
}

export type ConsoleMatch = { ok: true; console: MachineConsole } | { ok: false; reason: string };

const sameUuid = (a: string, b: string) => a.replace(/[\s-]/g, "").toLowerCase() === b.replace(/[\s-]/g, "").toLowerCase();

/** The identity field the selector names, as the VM announced it. */
function announced(vm: AnnouncedVm, sel: VmSelector): string | undefined {
  return sel.by === "name" ? vm.name : sel.by === "uuid" ? vm.biosUuid : vm.vcUuid;
}

function agrees(vm: AnnouncedVm, sel: VmSelector): boolean | undefined {
  const said = announced(vm, sel);
  if (said === undefined) return undefined;
  return sel.by === "name" ? said === sel.value : sameUuid(said, sel.value);
}

export class ConsoleRegistry {
  readonly #entries = new Map<string, ConsoleEntry>();

  add(entry: ConsoleEntry): void {
    this.#entries.set(entry.console.name, entry);
  }

  /** Removes the console only if it is still the registered one of its name. */
  remove(console: MachineConsole): void {
    if (this.#entries.get(console.name)?.console === console) this.#entries.delete(console.name);
  }

  get(name: string): MachineConsole | undefined {
    return this.#entries.get(name)?.console;
  }

  list(): MachineConsole[] {
    return [...this.#entries.values()].map((e) => e.console);
  }

  /** DO-PROXY comes before the identity: any serviceURI may still match by identity, if there is a console at all. */
  acceptsServiceUri(): boolean {
    return this.#entries.size > 0;
  }

  match(vm: AnnouncedVm): ConsoleMatch {
    const wired = this.#byServiceUri(vm.serviceUri);
    if (wired) {
      if (agrees(vm, wired.vm) === false) {
        return { ok: false, reason: `serviceURI "${vm.serviceUri}" names [[bmc]] "${wired.console.name}", but the VM announced ${wired.vm.by} "${announced(vm, wired.vm)}", not "${wired.vm.value}"` };
      }
      return { ok: true, console: wired.console };
    }
    const byIdentity = [...this.#entries.values()].filter((e) => agrees(vm, e.vm) === true);
    if (byIdentity.length === 1) return { ok: true, console: (byIdentity[0] as ConsoleEntry).console };
    if (byIdentity.length > 1) return { ok: false, reason: `the VM's identity matches several [[bmc]] entries: ${byIdentity.map((e) => e.console.name).join(", ")}` };
    const who = [vm.name && `name "${vm.name}"`, vm.biosUuid && `BIOS UUID ${vm.biosUuid}`, vm.vcUuid && `instance UUID ${vm.vcUuid}`].filter(Boolean).join(", ") || "no identity";
    return { ok: false, reason: `no [[bmc]] with serial = true matches serviceURI "${vm.serviceUri}" (${who})` };
  }

  #byServiceUri(uri: string): ConsoleEntry | undefined {
    for (const e of this.#entries.values()) if (e.serviceUri === uri) return e;
    return undefined;
  }
}
