// `esxkit vm list`, `esxkit vm power VM status|on|off|reset|soft`, `esxkit vm media …`
// (vm-media.ts) and `esxkit vm serial …` (vm-serial.ts): VM inventory, power, virtual media
// and the serial console port through the same code the BMCs use,
// for field use and outside checks.
import { defineCommand } from "citty";
import type { EndpointConfig, VmSelector } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { VimClient } from "../vsphere/client.ts";
import { refKey, str } from "../vsphere/convert.ts";
import { retrieveProperties } from "../vsphere/properties.ts";
import { findVm, listVms } from "../vsphere/search.ts";
import { getPowerState, isInvalidPowerState, powerOffVm, powerOnVm, resetVm, shutdownGuest } from "../vsphere/vm.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { cliLogger, withTlsHint } from "./vcenter.ts";
import { pickEndpoints, byArg, vcenterArg } from "./vm-endpoints.ts";
import { jsonArg, printJson, printTable, stdout } from "./output.ts";

async function withClient<T>(endpoint: EndpointConfig, fn: (c: VimClient) => Promise<T>): Promise<T> {
  const client = await VimClient.connect(endpoint, { logger: cliLogger() }).catch((err) => {
    throw withTlsHint(err, endpoint);
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const list = defineCommand({
  meta: { name: "list", examples: ["esxkit vm list", "esxkit vm list --vcenter lab --json"], description: "list VMs: name, power state, BIOS uuid, host (all [vcenter.*] unless --vcenter)" },
  args: { ...vcenterArg, ...configArg, ...jsonArg },
  async run({ args }) {
    const config = loadConfigFromArgs(args);
    const rows: { vcenter: string; name: string; power_state: string; uuid: string; instance_uuid: string; host: string; moref: string }[] = [];
    for (const endpoint of pickEndpoints(config, args.vcenter, true)) {
      await withClient(endpoint, async (c) => {
        const [vms, hosts] = await Promise.all([listVms(c), retrieveProperties(c, { type: "HostSystem", paths: ["name"] })]);
        const hostName = new Map(hosts.map((h) => [refKey(h.ref), str(h.props.name) ?? h.ref.value]));
        for (const v of vms.sort((a, b) => a.name.localeCompare(b.name))) {
          rows.push({
            vcenter: endpoint.name,
            name: v.name,
            power_state: v.powerState ?? "",
            uuid: v.uuid ?? "",
            instance_uuid: v.instanceUuid ?? "",
            host: v.host ? (hostName.get(refKey(v.host)) ?? v.host.value) : "",
            moref: v.ref.value,
          });
        }
      });
    }
    if (args.json) return printJson(rows);
    const multi = new Set(rows.map((r) => r.vcenter)).size > 1;
    printTable(
      [...(multi ? ["VCENTER"] : []), "NAME", "POWER", "BIOS UUID", "HOST"],
      rows.map((r) => [...(multi ? [r.vcenter] : []), r.name, r.power_state, r.uuid, r.host]),
    );
  },
});

const ACTIONS = ["status", "on", "off", "reset", "soft"] as const;
type Action = (typeof ACTIONS)[number];

const power = defineCommand({
  meta: { name: "power", examples: ["esxkit vm power web01 status", "esxkit vm power --by uuid 4213a2b1-8c1e-4f0a-9d5e-2b7c9e0f1a22 on"], description: "VM power: status | on | off (hard) | reset (hard) | soft (guest shutdown)" },
  args: {
    vm: { type: "positional", description: "VM name (or uuid with --by)", required: true, valueHint: "VM" },
    action: { type: "positional", description: "status | on | off | reset | soft", required: true, valueHint: "ACTION" },
    ...byArg,
    ...vcenterArg,
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const action = args.action as Action;
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown power action "${args.action}" (expected ${ACTIONS.join(", ")})`);
    const config = loadConfigFromArgs(args);
    const [endpoint] = pickEndpoints(config, args.vcenter, false);
    const selector = { by: args.by, value: args.vm } as VmSelector;
    await withClient(endpoint as EndpointConfig, async (c) => {
      const vm = await findVm(c, selector);
      let note = "";
      try {
        if (action === "on") await powerOnVm(c, vm.ref);
        else if (action === "off") await powerOffVm(c, vm.ref);
        else if (action === "reset") await resetVm(c, vm.ref);
        else if (action === "soft") await shutdownGuest(c, vm.ref);
      } catch (err) {
        // Like fence agents: asking for the state the VM is already in is not a failure.
        if (!((action === "on" || action === "off" || action === "soft") && isInvalidPowerState(err))) throw err;
        note = "already in that state";
      }
      const state = await getPowerState(c, vm.ref);
      if (args.json) return printJson({ vm: vm.name, moref: vm.ref.value, action, power_state: state, ...(note ? { note } : {}) });
      const verb = action === "status" ? "is" : action === "soft" ? "guest shutdown requested; now" : `${action}: now`;
      stdout(`${vm.name}: ${verb} ${state}${note ? ` (${note})` : ""}\n`);
    });
  },
});

export default defineCommand({
  meta: { name: "vm", examples: ["esxkit vm list", "esxkit vm power web01 status", "esxkit vm media insert web01 http://10.0.0.5/rhcos-live.iso"], description: "list VMs, control their power, virtual media and serial console" },
  // media and serial load only when named: they bring the datastore upload, the media fetcher
  // and the serial-port code, which `vm power` does not need before its first request.
  subCommands: {
    list,
    power,
    media: () => import("./vm-media.ts").then((m) => m.default),
    serial: () => import("./vm-serial.ts").then((m) => m.default),
  },
});
