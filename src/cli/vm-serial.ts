// `esxkit vm serial attach|detach|status VM`: esxkit's console port on a VM (network backing,
// direction server, proxyURI = [console] proxy_uri), the same functions the daemon applies for
// [[bmc]] serial = true. VM is a [[bmc]] name or a VM name (uuid with --by). A serial port esxkit
// did not create is named and never changed.
import { defineCommand } from "citty";
import type { BmcConfig, Config, EndpointConfig, VmSelector } from "../config/types.ts";
import { SerialPortForeignError, UsageError } from "../errors.ts";
import { VimClient } from "../vsphere/client.ts";
import { findVm, normalizeUuid, type VmIdentity } from "../vsphere/search.ts";
import { attachSerialPort, detachSerialPort, readPeerFirewalls, readSerialFirewall, readSerialState, type SerialFirewall } from "../vsphere/serial-console.ts";
import { describeSerialPort, esxkitServiceUri, type SerialPort } from "../vsphere/serial-port.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { jsonArg, printJson, stderr, stdout } from "./output.ts";
import { cliLogger, endpointByName, withTlsHint } from "./vcenter.ts";
import { byArg, pickEndpoints, vcenterArg } from "./vm-endpoints.ts";

const vmArgs = {
  vm: { type: "positional" as const, description: "a [[bmc]] name, or a VM name (or uuid with --by)", required: true as const, valueHint: "VM" },
  ...byArg,
  ...vcenterArg,
  ...configArg,
  ...jsonArg,
};

interface Args {
  vm: string;
  by: string;
  vcenter?: string;
  config?: string;
  json?: boolean;
}

/** The [[bmc]] entry VM stands for: by its name, or by the VM it names. */
function bmcFor(config: Config, args: Args): BmcConfig | undefined {
  if (args.by === "name") {
    const byName = config.bmc.find((b) => b.name === args.vm);
    if (byName) return byName;
  }
  const value = args.by === "name" ? args.vm : normalizeUuid(args.vm);
  return config.bmc.find((b) => b.vm.by === args.by && (b.vm.by === "name" ? b.vm.value : normalizeUuid(b.vm.value)) === value);
}

interface Target {
  endpoint: EndpointConfig;
  selector: VmSelector;
  /** The name in the serviceURI: the [[bmc]]'s, or the VM's when no [[bmc]] names it. */
  consoleName: string;
  bmc?: BmcConfig;
}

function targetOf(config: Config, args: Args): Target {
  const bmc = bmcFor(config, args);
  if (bmc) return { endpoint: args.vcenter ? endpointByName(config, args.vcenter) : endpointByName(config, bmc.vcenter), selector: bmc.vm, consoleName: bmc.name, bmc };
  const [endpoint] = pickEndpoints(config, args.vcenter, false) as [EndpointConfig];
  return { endpoint, selector: { by: args.by, value: args.vm } as VmSelector, consoleName: args.vm };
}

async function withVm<T>(args: Args, fn: (c: VimClient, vm: VmIdentity, t: Target, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfigFromArgs(args);
  const t = targetOf(config, args);
  const client = await VimClient.connect(t.endpoint, { logger: cliLogger() }).catch((err) => {
    throw withTlsHint(err, t.endpoint);
  });
  try {
    const vm = await findVm(client, t.selector);
    return await fn(client, vm, t, config);
  } finally {
    await client.close();
  }
}

function portJson(p: SerialPort) {
  return { key: p.key, label: p.label, esxkit: p.esxkit, backing: p.backing, connected: p.connected, start_connected: p.startConnected, yield_on_poll: p.yieldOnPoll };
}

/**
 * vSphere does not hot-add serial ports, and may refuse a backing change on a running VM too;
 * the simulator accepts both. The hint goes with the failure, not before it: some hosts allow it.
 */
async function hintPowerOff<T>(vm: VmIdentity, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (vm.powerState === "poweredOn" && !(err instanceof SerialPortForeignError)) stderr(`note: ${vm.name} is powered on; vSphere adds or changes a serial port only on a powered-off VM: power it off and run this again\n`);
    throw err;
  }
}

async function firewallOf(c: VimClient, vm: VmIdentity): Promise<SerialFirewall | undefined> {
  const { host } = await readSerialState(c, vm.ref);
  return host ? readSerialFirewall(c, host) : undefined;
}

function firewallJson(fw: SerialFirewall | undefined) {
  return fw ? { host: fw.hostName, vSPC: fw.vSPC ?? null, remoteSerialPort: fw.remoteSerialPort ?? null, open: fw.open } : null;
}

/** The firewall line: said plainly when it is closed, since the port then never reaches esxkit. */
function firewallText(fw: SerialFirewall | undefined): string {
  if (!fw) return "host: unknown (the VM is on no host), firewall not checked";
  const state = (v: boolean | undefined) => (v === undefined ? "absent" : v ? "enabled" : "disabled");
  const rulesets = `vSPC ${state(fw.vSPC)}, remoteSerialPort ${state(fw.remoteSerialPort)}`;
  if (fw.open) return `host ${fw.hostName}: firewall open (${rulesets})`;
  return `host ${fw.hostName}: FIREWALL CLOSED (${rulesets}): the host cannot dial esxkit; open it on the host with\n  esxcli network firewall ruleset set -r vSPC -e true`;
}

function proxyUriOf(config: Config): string {
  const uri = config.console?.proxy_uri;
  if (!uri) throw new UsageError(`${config.file} has no [console] proxy_uri: it is what the VM's host dials, e.g. proxy_uri = "telnet://esxkit.example.com:13370"`);
  return uri;
}

const attach = defineCommand({
  meta: {
    name: "attach",
    description: "give the VM esxkit's console port (dials [console] proxy_uri); never changes another port",
    examples: ["esxkit vm serial attach web01", "esxkit vm serial attach --by uuid 4213a2b1-8c1e-4f0a-9d5e-2b7c9e0f1a22 --json"],
  },
  args: vmArgs,
  async run({ args }) {
    await withVm(args, async (c, vm, t, config) => {
      if (!t.bmc) stderr(`note: no [[bmc]] names ${args.vm}: the port's serviceURI is ${esxkitServiceUri(t.consoleName)}\n`);
      const proxyUri = proxyUriOf(config);
      const r = await hintPowerOff(vm, () => attachSerialPort(c, vm.ref, { serviceUri: esxkitServiceUri(t.consoleName), proxyUri }));
      const fw = await firewallOf(c, vm);
      if (args.json) return printJson({ vm: vm.name, action: r.plan.action, ...(r.plan.action === "edit" ? { changed: r.plan.differences } : {}), port: portJson(r.port), firewall: firewallJson(fw) });
      const what = r.plan.action === "add" ? "added" : r.plan.action === "edit" ? `updated (${r.plan.differences.join("; ")})` : "already attached";
      stdout(`${vm.name}: ${what}: ${describeSerialPort(r.port)}\n${firewallText(fw)}\n`);
    });
  },
});

const detach = defineCommand({
  meta: { name: "detach", description: "remove esxkit's console port from the VM (other serial ports stay)", examples: ["esxkit vm serial detach web01"] },
  args: vmArgs,
  async run({ args }) {
    await withVm(args, async (c, vm) => {
      const r = await hintPowerOff(vm, () => detachSerialPort(c, vm.ref));
      if (args.json) return printJson({ vm: vm.name, removed: r.removed.map(portJson), kept: r.foreign.map(portJson) });
      const removed = r.removed.length ? `removed ${r.removed.map(describeSerialPort).join(", ")}` : "no esxkit serial port";
      const kept = r.foreign.length ? `; left alone (not esxkit's): ${r.foreign.map(describeSerialPort).join(", ")}` : "";
      stdout(`${vm.name}: ${removed}${kept}\n`);
    });
  },
});

const status = defineCommand({
  meta: { name: "status", description: "the VM's serial ports, which one is esxkit's, and the host's firewall", examples: ["esxkit vm serial status web01", "esxkit vm serial status web01 --json"] },
  args: vmArgs,
  async run({ args }) {
    await withVm(args, async (c, vm, t, config) => {
      const state = await readSerialState(c, vm.ref);
      const fw = state.host ? await readSerialFirewall(c, state.host) : undefined;
      const closedPeers = state.host ? (await readPeerFirewalls(c, state.host)).filter((p) => !p.open).map((p) => p.hostName) : [];
      const want = config.console?.proxy_uri;
      const mine = state.ports.find((p) => p.esxkit);
      const pointsAtProxy = mine?.backing.kind === "uri" && want !== undefined && mine.backing.proxyUri === want && mine.backing.serviceUri === esxkitServiceUri(t.consoleName);
      if (args.json) return printJson({ vm: vm.name, power_state: state.powerState ?? null, ports: state.ports.map(portJson), attached: pointsAtProxy, firewall: firewallJson(fw), closed_vmotion_targets: closedPeers });
      const lines = state.ports.length ? state.ports.map((p) => `  ${describeSerialPort(p)}${p.esxkit ? " [esxkit]" : " [not esxkit's: left alone]"}${p.connected ? ", connected" : ""}`) : ["  no serial ports"];
      const verdict = mine ? (pointsAtProxy ? "attached to esxkit" : `esxkit's port does not point at ${want ?? "a [console] proxy_uri (none set)"} as ${esxkitServiceUri(t.consoleName)}: run esxkit vm serial attach`) : "not attached";
      const peers = closedPeers.length ? `\nfirewall also closed on ${closedPeers.join(", ")} in the same cluster: the console drops if the VM moves there` : "";
      stdout(`${vm.name}: ${verdict}\n${lines.join("\n")}\n${firewallText(fw)}${peers}\n`);
    });
  },
});

export default defineCommand({
  meta: { name: "serial", examples: ["esxkit vm serial attach web01", "esxkit vm serial status web01"], description: "serial console through esxkit's vSPC: attach | detach | status" },
  subCommands: { attach, detach, status },
});
