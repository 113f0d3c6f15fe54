// Which [[bmc]] a VM's incoming serial connection belongs to. A VM wired by esxkit names its
// BMC in its serviceURI; a VM wired by hand is matched by the identity its host announces
// (name, BIOS UUID, vCenter instance UUID). What the host announces is checked against the
// [[bmc]]'s selector and what vCenter says of the VM: one field must agree and none may
// differ, so a copied serviceURI on another VM is refused, not attached to the wrong console.
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
  /** What vCenter says the VM is (name, BIOS UUID, instance UUID), once the watch has it. */
  known?: () => { name?: string; biosUuid?: string; vcUuid?: string };
}

export type ConsoleMatch = { ok: true; console: MachineConsole } | { ok: false; reason: string };

type Field = "name" | "biosUuid" | "vcUuid";
const FIELDS: readonly Field[] = ["name", "biosUuid", "vcUuid"];
const FIELD_NAME: Record<Field, string> = { name: "name", biosUuid: "BIOS UUID", vcUuid: "instance UUID" };
const SELECTED: Record<VmSelector["by"], Field> = { name: "name", uuid: "biosUuid", instance_uuid: "vcUuid" };

const canonical = (f: Field, v: string) => (f === "name" ? v : v.replace(/[\s-]/g, "").toLowerCase());

/** What the VM must be: the selector's value, and whatever else vCenter knows of it. */
function expected(e: ConsoleEntry): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = { ...(e.known?.() ?? {}) };
  for (const f of FIELDS) if (out[f] === undefined) delete out[f];
  out[SELECTED[e.vm.by]] = e.vm.value;
  return out;
}

/**
 * "agrees": at least one announced field matches and none contradicts; "contradicts": one
 * differs (named in `detail`); "unverified": the host announced nothing esxkit can check.
 */
function verdict(vm: AnnouncedVm, e: ConsoleEntry): { kind: "agrees" } | { kind: "contradicts"; detail: string } | { kind: "unverified" } {
  const want = expected(e);
  let agreed = 0;
  for (const f of FIELDS) {
    const said = vm[f];
    const must = want[f];
    if (said === undefined || must === undefined) continue;
    if (canonical(f, said) !== canonical(f, must)) return { kind: "contradicts", detail: `${FIELD_NAME[f]} "${said}", not "${must}"` };
    agreed++;
  }
  return agreed > 0 ? { kind: "agrees" } : { kind: "unverified" };
}

function describe(vm: AnnouncedVm): string {
  return FIELDS.filter((f) => vm[f] !== undefined).map((f) => `${FIELD_NAME[f]} "${vm[f]}"`).join(", ") || "no identity";
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
      const v = verdict(vm, wired);
      if (v.kind === "agrees") return { ok: true, console: wired.console };
      if (v.kind === "contradicts") return { ok: false, reason: `serviceURI "${vm.serviceUri}" names [[bmc]] "${wired.console.name}", but the VM announced ${v.detail}` };
      return { ok: false, reason: `serviceURI "${vm.serviceUri}" names [[bmc]] "${wired.console.name}", but the host announced nothing to check it against (${describe(vm)}); refused rather than risk the wrong console` };
    }
    const byIdentity = [...this.#entries.values()].filter((e) => verdict(vm, e).kind === "agrees");
    if (byIdentity.length === 1) return { ok: true, console: (byIdentity[0] as ConsoleEntry).console };
    if (byIdentity.length > 1) return { ok: false, reason: `the VM's identity matches several [[bmc]] entries: ${byIdentity.map((e) => e.console.name).join(", ")}` };
    return { ok: false, reason: `no [[bmc]] with serial = true matches serviceURI "${vm.serviceUri}" (${describe(vm)})` };
  }

  #byServiceUri(uri: string): ConsoleEntry | undefined {
    for (const e of this.#entries.values()) if (e.serviceUri === uri) return e;
    return undefined;
  }
}
