// Turns a config into the services `serve` runs, and owns what they share: one vSphere
// session (pool) and one property watch (hub) per vCenter, whatever the number of BMCs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { BmcActionQueue } from "../bmc/action-queue.ts";
import type { VmBackend } from "../bmc/backend.ts";
import { type Machine, MachineRegistry } from "../bmc/machine.ts";
import { createRedfishService } from "../bmc/redfish-service.ts";
import { createBmcService } from "../bmc/service.ts";
import type { VirtualMedia } from "../bmc/virtual-media.ts";
import { createVsphereMedia } from "../bmc/vsphere-media.ts";
import { fileBootRestoreStore } from "../bmc/boot-restore-store.ts";
import { VsphereBackend } from "../bmc/vsphere-backend.ts";
import type { ConnectionStatus } from "../bmc/hub-health.ts";
import { VsphereHub } from "../bmc/vsphere-hub.ts";
import { ConsoleRegistry } from "../bmc/console/registry.ts";
import { startSerialWiring, type SerialWiring } from "../bmc/console/serial-wiring.ts";
import { consoleEntry, consoleService, machineConsoleFor } from "./console-plan.ts";
import { entryFingerprint } from "../config/build.ts";
import type { BmcConfig, Config, SlpConfig, VcenterConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { createSlpService } from "../slp/service.ts";
import { VimClientPool } from "../vsphere/pool.ts";
import { createWatchdogService } from "../watchdog/service.ts";
import { VERSION } from "../version.ts";
import type { PlannedService, Service } from "./reconcile.ts";

export interface Planner {
  plan(config: Config, logger: Logger): PlannedService[];
  /** After a config was applied: release shared resources no current service uses. */
  afterApply(config: Config): Promise<void>;
  /** One row per vCenter the BMCs use: connected, last answer, last error. */
  connections(): ConnectionStatus[];
  /** The serial consoles of the running BMCs with serial = true. */
  consoles(): ConsoleRegistry;
  close(): Promise<void>;
}

interface Shared {
  fingerprint: string;
  pool: VimClientPool;
  hub: VsphereHub;
}

function slpFingerprint(s: SlpConfig): string {
  // An edited attribute file restarts the entry too, not only a changed path.
  let file = "";
  if (s.attributes_file) {
    try {
      file = createHash("sha256").update(readFileSync(s.attributes_file)).digest("hex");
    } catch {
      file = "unreadable";
    }
  }
  return entryFingerprint({ s, file });
}

/**
 * The virtual media of one machine, for Redfish InsertMedia/EjectMedia: by default the
 * vSphere implementation (vsphere-media.ts) over the machine's own backend and session.
 */
export type VirtualMediaFactory = (b: BmcConfig, config: Config, deps: { backend: VmBackend; hub: VsphereHub; logger: Logger }) => VirtualMedia | undefined;

const vsphereVirtualMedia: VirtualMediaFactory = (b, config, { backend, logger }) =>
  backend instanceof VsphereBackend ? createVsphereMedia(backend, { bmcName: b.name, logger, mediaDatastore: config.redfish?.media_datastore }) : undefined;

function consoleKeysOfBmc(config: Config) {
  const c = config.console;
  return c && { proxy_uri: c.proxy_uri, ring_bytes: c.ring_bytes, log_max_bytes: c.log_max_bytes, log_files: c.log_files, state_dir: config.daemon.state_dir };
}

export function createPlanner(rootLogger: Logger, opts: { virtualMedia?: VirtualMediaFactory } = {}): Planner {
  const machines = new MachineRegistry();
  const consoles = new ConsoleRegistry();
  const virtualMedia = opts.virtualMedia ?? vsphereVirtualMedia;
  // One pool + hub per vCenter *configuration*: a changed [vcenter.X] gets a fresh session,
  // and its BMCs (whose fingerprints include it) restart onto the new one.
  const shared = new Map<string, Shared>();

  function sharedFor(vc: VcenterConfig, logger: Logger): Shared {
    const fingerprint = entryFingerprint(vc);
    const key = `${vc.name}:${fingerprint}`;
    let s = shared.get(key);
    if (!s) {
      const pool = new VimClientPool([vc], { logger: logger.child("vsphere", { vcenter: vc.name }) });
      const hub = new VsphereHub({ vcenter: vc.name, getClient: () => pool.get(vc.name), logger });
      s = { fingerprint, pool, hub };
      shared.set(key, s);
    }
    return s;
  }

  function bmcService(b: BmcConfig, config: Config, logger: Logger): PlannedService {
    const vc = config.vcenter[b.vcenter] as VcenterConfig;
    return {
      kind: "bmc",
      name: b.name,
      // A serial BMC depends on the [console] keys it uses (its ring, log limits and the proxy_uri
      // it wires); the listener's own keys restart only the vSPC.
      fingerprint: entryFingerprint(b.serial ? { b, vc, console: consoleKeysOfBmc(config) } : { b, vc }),
      create: () => {
        const { hub } = sharedFor(vc, logger);
        const backend = new VsphereBackend({
          hub,
          bmcName: b.name,
          selector: b.vm,
          maxStalenessMs: b.max_staleness_s * 1000,
          logger: logger.child("bmc", { bmc: b.name }),
          store: fileBootRestoreStore(config.daemon.state_dir, b.name),
        });
        const machineLogger = logger.child("bmc", { bmc: b.name });
        const machine: Machine = {
          name: b.name,
          backend,
          actions: new BmcActionQueue({ logger: machineLogger }),
          media: virtualMedia(b, config, { backend, hub, logger: machineLogger }),
          redfish: b.redfish,
        };
        const serialConsole = machineConsoleFor(b, config, machineLogger);
        const ipmi = b.ipmi ? createBmcService(b, { backend, logger, actions: machine.actions, console: serialConsole }) : undefined;
        let wiring: SerialWiring | undefined;
        const serialStatus = () => (serialConsole ? { serial: { ...serialConsole.status(), wiring: wiring?.status() } } : {});
        return {
          start: async () => {
            if (ipmi) await ipmi.start();
            machines.add(machine);
            if (serialConsole) {
              const entry = consoleEntry(b, serialConsole, () => backend.vmLink.identity);
              consoles.add(entry);
              const proxyUri = config.console?.proxy_uri;
              if (proxyUri) wiring ??= startSerialWiring(backend, { serviceUri: entry.serviceUri, proxyUri }, machineLogger);
            }
          },
          stop: async () => {
            wiring?.stop();
            if (serialConsole) {
              consoles.remove(serialConsole);
              serialConsole.close("BMC stopped");
            }
            machines.remove(machine);
            await ipmi?.stop();
            // Abort a running transfer before the VM link it uses goes away.
            await (machine.media as { close?: () => Promise<void> } | undefined)?.close?.();
            await backend.close();
          },
          status: () => {
            if (!ipmi) {
              const p = backend.powerState();
              return { name: b.name, vm: backend.describe(), listen: "redfish only", powerState: p.state === "unknown" || p.fresh ? p.state : "stale", sessions: 0, ...serialStatus() };
            }
            const s = ipmi.status();
            return { ...s, listen: `${s.address.includes(":") ? `[${s.address}]` : s.address}:${s.port}`, ...serialStatus() };
          },
        };
      },
    };
  }

  return {
    plan(config, logger) {
      const plan: PlannedService[] = config.bmc.map((b) => bmcService(b, config, logger));
      const vspc = consoleService(config, consoles, logger);
      if (vspc) plan.push(vspc);
      const rf = config.redfish;
      if (rf) {
        plan.push({
          kind: "redfish",
          name: "redfish",
          fingerprint: entryFingerprint({ rf, state: config.daemon.state_dir }),
          // After the BMCs: an IPMI machine registers once its port is bound, and "Redfish
          // listening … systems: N" counted only the machines registered by then.
          phase: 1,
          create: () => createRedfishService(rf, { registry: machines, stateDir: config.daemon.state_dir, logger, version: VERSION }),
        });
      }
      for (const s of config.slp) {
        plan.push({ kind: "slp", name: s.name, fingerprint: slpFingerprint(s), create: () => createSlpService(s, { logger }) as unknown as Service });
      }
      for (const w of config.watchdog) {
        plan.push({
          kind: "watchdog",
          name: w.name,
          fingerprint: entryFingerprint({ w, hosts: w.hosts.map((h) => config.esxi[h]), self: w.self_host && config.esxi[w.self_host], vc: w.vcenter && config.vcenter[w.vcenter] }),
          create: () =>
            createWatchdogService(w, {
              esxi: config.esxi,
              logger,
              stateDir: config.daemon.state_dir,
              vcenter: w.vcenter ? config.vcenter[w.vcenter] : undefined,
            }) as unknown as Service,
        });
      }
      return plan;
    },
    async afterApply(config) {
      const live = new Set(Object.values(config.vcenter).map((vc) => `${vc.name}:${entryFingerprint(vc)}`));
      for (const [key, s] of shared) {
        if (live.has(key)) continue;
        shared.delete(key);
        await s.hub.close();
        await s.pool.close();
      }
    },
    connections() {
      return [...shared.values()].map((s) => s.hub.connection());
    },
    consoles: () => consoles,
    async close() {
      const all = [...shared.values()];
      shared.clear();
      await Promise.all(all.map(async (s) => {
        await s.hub.close();
        await s.pool.close();
      }));
    },
  };
}
