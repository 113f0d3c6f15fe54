// Which VM is this machine? When esxkit runs as a VM its NICs carry MAC addresses that vSphere
// assigned (VMware OUIs), and the config.hardware.device of its VM lists them. The watchdog
// readiness check uses this to check anti-affinity when a [[watchdog]] has no self_host.
import { networkInterfaces } from "node:os";
import type { VimClient } from "../vsphere/client.ts";
import { toDevices } from "../vsphere/convert.ts";
import { retrieveProperties } from "../vsphere/properties.ts";
import type { Inventory, VmFacts } from "./inventory.ts";

/** 00:50:56 (vCenter/static), 00:0c:29 (ESXi-generated), 00:05:69 and 00:1c:14 (other VMware ranges). */
const VMWARE_OUIS = ["00:50:56", "00:0c:29", "00:05:69", "00:1c:14"];

/** This machine's non-loopback MAC addresses that vSphere could have assigned, lower case. */
export function localVmwareMacs(ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const addrs of Object.values(ifaces)) {
    for (const a of addrs ?? []) {
      const mac = a.mac.toLowerCase();
      if (!a.internal && VMWARE_OUIS.some((oui) => mac.startsWith(oui))) out.add(mac);
    }
  }
  return [...out];
}

export interface SelfVm {
  vm: VmFacts;
  /** The MAC address that matched. */
  mac: string;
}

/**
 * The VM whose NIC carries one of `macs`, read through every connected endpoint. Undefined when
 * none matches, or when matches sit on different hosts (a cloned MAC): then nothing is claimed.
 * Read errors count as "no match": this is a hint on top of self_host, never a fact to fail on.
 */
export async function locateSelfVm(inv: Inventory, clients: ReadonlyMap<string, VimClient>, macs: readonly string[]): Promise<SelfVm | undefined> {
  if (macs.length === 0) return undefined;
  const wanted = new Set(macs.map((m) => m.toLowerCase()));
  const perEndpoint = await Promise.all(
    [...clients].map(async ([endpoint, client]) => {
      const objs = await retrieveProperties(client, { type: "VirtualMachine", paths: ["config.hardware.device"] }).catch(() => []);
      return objs.flatMap(({ ref, props }): SelfVm[] => {
        const mac = toDevices(props["config.hardware.device"])
          .map((d) => d.macAddress?.toLowerCase())
          .find((m) => m !== undefined && wanted.has(m));
        const vm = mac ? inv.vms.find((v) => v.endpoint === endpoint && v.ref.value === ref.value) : undefined;
        return vm && mac ? [{ vm, mac }] : [];
      });
    }),
  );
  const found = perEndpoint.flat().filter((s) => s.vm.powerState !== "poweredOff");
  const hosts = new Set(found.map((s) => s.vm.hostKey ?? "?"));
  return hosts.size === 1 && !hosts.has("?") ? found[0] : undefined;
}
