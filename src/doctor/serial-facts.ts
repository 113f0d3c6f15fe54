// Facts for the serial-console check, one per [[bmc]] with serial = true: the VM's serial
// ports as its vCenter shows them, and the vSPC / remoteSerialPort rulesets of the host it runs on.
import type { BmcConfig, Config } from "../config/types.ts";
import type { VimClient } from "../vsphere/client.ts";
import { refKey } from "../vsphere/convert.ts";
import type { MoRef } from "../vsphere/soap/types.ts";
import { findVm } from "../vsphere/search.ts";
import { readSerialFirewall, readSerialState, type SerialFirewall, readPeerFirewalls } from "../vsphere/serial-console.ts";
import { esxkitServiceUri, type SerialPort } from "../vsphere/serial-port.ts";
import { mapLimit } from "./collect.ts";

export interface SerialConsoleFacts {
  bmc: string;
  vcenter: string;
  /** What the VM's port must carry. */
  serviceUri: string;
  proxyUri: string;
  /** The endpoint was not read (unreachable: reported by the endpoint check). */
  skipped?: boolean;
  /** The VM could not be found or read. */
  error?: string;
  vmName?: string;
  powerState?: string;
  ports: SerialPort[];
  /** The VM's host's rulesets; undefined when the VM is on no host or they could not be read. */
  firewall?: SerialFirewall;
  firewallError?: string;
  /** The rulesets of the other hosts in the VM's cluster (vMotion targets) that could be read. */
  peers?: SerialFirewall[];
}

const SERIAL_READ_CONCURRENCY = 8;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function collectSerialFacts(config: Config, clients: ReadonlyMap<string, VimClient>): Promise<SerialConsoleFacts[]> {
  const bmcs = config.bmc.filter((b) => b.serial);
  const proxyUri = config.console?.proxy_uri ?? "";
  // Many VMs share a host: read each host's rulesets once.
  const firewalls = new Map<string, Promise<SerialFirewall>>();
  return mapLimit(bmcs, SERIAL_READ_CONCURRENCY, async (b: BmcConfig): Promise<SerialConsoleFacts> => {
    const facts: SerialConsoleFacts = { bmc: b.name, vcenter: b.vcenter, serviceUri: esxkitServiceUri(b.name), proxyUri, ports: [] };
    const client = clients.get(b.vcenter);
    if (!client) return { ...facts, skipped: true };
    try {
      const vm = await findVm(client, b.vm);
      facts.vmName = vm.name;
      const state = await readSerialState(client, vm.ref);
      facts.ports = state.ports;
      if (state.powerState) facts.powerState = state.powerState;
      if (state.host) {
        const firewallOf = (host: MoRef): Promise<SerialFirewall> => {
          const key = `${b.vcenter}/${refKey(host)}`;
          let fw = firewalls.get(key);
          if (!fw) firewalls.set(key, (fw = readSerialFirewall(client, host)));
          return fw;
        };
        try {
          facts.firewall = await firewallOf(state.host);
        } catch (err) {
          facts.firewallError = message(err);
        }
        facts.peers = await readPeerFirewalls(client, state.host, firewallOf);
      }
    } catch (err) {
      facts.error = message(err);
    }
    return facts;
  });
}
