// The serial-console part of the plan: a MachineConsole for every [[bmc]] with serial = true
// (its ring, its log file under state_dir/console, its metrics), and the one vSPC listener
// the VMs' hosts dial, which hands each VM's serial port to the console it belongs to.
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { ConsoleLogFile } from "../bmc/console/log-file.ts";
import { serviceTls } from "../bmc/service-tls.ts";
import { MachineConsole } from "../bmc/console/machine-console.ts";
import type { ConsoleEntry, ConsoleRegistry } from "../bmc/console/registry.ts";
import { esxkitServiceUri } from "../vsphere/serial-port.ts";
import { entryFingerprint } from "../config/build.ts";
import type { BmcConfig, Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import { splitListen } from "../net/listen.ts";
import { startVspcServer, type VspcServer } from "../vspc/server.ts";
import type { PlannedService } from "./reconcile.ts";

const consoleBytes = metrics.counter("esxkit_console_bytes_total", "Serial console bytes, by console and direction (from_vm, to_vm).");
const vspcConnected = metrics.gauge("esxkit_console_connected", "1 while the VM's serial port is connected to esxkit's vSPC, by console.");
const vspcVmotions = metrics.counter("esxkit_vspc_vmotions_total", "vMotion handovers the vSPC carried (completed) or saw aborted.");

export function machineConsoleFor(b: BmcConfig, config: Config, logger: Logger): MachineConsole | undefined {
  const cc = config.console;
  if (!b.serial || !cc) return undefined;
  const log = new ConsoleLogFile({ dir: join(config.daemon.state_dir, "console"), name: b.name, maxBytes: cc.log_max_bytes, keep: cc.log_files, logger });
  const from = consoleBytes.labels({ console: b.name, direction: "from_vm" });
  const to = consoleBytes.labels({ console: b.name, direction: "to_vm" });
  return new MachineConsole({ name: b.name, ringBytes: cc.ring_bytes, log, logger, onBytes: (d, n) => (d === "from_vm" ? from : to).inc(n) });
}

/** What the registry matches an incoming VM by: the serviceURI esxkit wires, and the selector. */
export function consoleEntry(b: BmcConfig, console: MachineConsole, known?: ConsoleEntry["known"]): ConsoleEntry {
  return { console, serviceUri: esxkitServiceUri(b.name), vm: b.vm, known };
}

export function consoleService(config: Config, consoles: ConsoleRegistry, logger: Logger): PlannedService | undefined {
  const cc = config.console;
  if (!cc) return undefined;
  return {
    kind: "console",
    name: "vspc",
    fingerprint: entryFingerprint({ cc }),
    create: () => {
      let server: VspcServer | undefined;
      let stopCollecting: (() => void) | undefined;
      // The server counts since it started; the counter adds what is new since the last look.
      const seen = { completed: 0, aborted: 0 };
      const collect = () => {
        vspcConnected.clear();
        for (const c of consoles.list()) vspcConnected.set({ console: c.name }, c.connected ? 1 : 0);
        const s = server?.stats();
        if (s) {
          vspcVmotions.inc({ result: "completed" }, s.vmotionsCompleted - seen.completed);
          vspcVmotions.inc({ result: "aborted" }, s.vmotionsAborted - seen.aborted);
          seen.completed = s.vmotionsCompleted;
          seen.aborted = s.vmotionsAborted;
        }
      };
      const log = logger.child("console");
      const refusals = refusalLog(log);
      const { hostname: address, port } = splitListen(cc.listen, "console.listen");
      return {
        start: async () => {
          // telnets:// in proxy_uri is what the hosts will dial, so that is when the listener speaks TLS.
          const wantsTls = cc.proxy_uri?.startsWith("telnets://") || (cc.tls_cert !== undefined && cc.tls_key !== undefined);
          const tls = wantsTls ? serviceTls({ tls_cert: cc.tls_cert, tls_key: cc.tls_key, listen: cc.listen, stateDir: config.daemon.state_dir, stem: "vspc" }, log, "vSPC") : undefined;
          if (tls && cc.proxy_uri) checkPinnedThumbprint(cc.proxy_uri, tls.cert, log);
          server = await startVspcServer({
            address,
            port,
            tls: tls ? { cert: tls.cert, key: tls.key } : undefined,
            logger: log,
            limits: { maxConnections: cc.max_connections },
            acceptsServiceUri: () => consoles.acceptsServiceUri(),
            attach: (identity, vmPort, peer) => {
              const m = consoles.match(identity);
              if (!m.ok) {
                refusals.note(m.reason, peer());
                return false;
              }
              m.console.attachVm(vmPort, peer);
              return true;
            },
          });
          stopCollecting = metrics.onCollect(collect);
        },
        stop: async () => {
          stopCollecting?.();
          stopCollecting = undefined;
          await server?.close();
          server = undefined;
        },
        status: () => {
          const s = server?.stats();
          return { listen: cc.listen, listening: server !== undefined, ...s, consoles: consoles.list().map((c) => ({ name: c.name, ...c.status() })) };
        },
      };
    },
  };
}

/**
 * The hosts check the vSPC's certificate against proxy_uri's #thumbprint= (SHA-1, as
 * OpenStack's vmware-vspc documents it): a missing pin is worth a hint, a wrong one means no
 * host will ever connect, so both are said at start.
 */
function checkPinnedThumbprint(proxyUri: string, certPem: string, log: Logger): void {
  const cert = new X509Certificate(certPem);
  const sha1 = cert.fingerprint.toUpperCase();
  const pinned = /#thumbprint=([0-9A-Fa-f:]+)$/.exec(proxyUri)?.[1];
  const hint = `proxy_uri = "${proxyUri.replace(/#thumbprint=.*$/, "")}#thumbprint=${sha1}" pins it`;
  if (!pinned) {
    log.warn("proxy_uri is telnets:// without #thumbprint=: ESXi must then trust the vSPC's certificate by its CA", { thumbprint: sha1, hint });
    return;
  }
  const norm = (t: string) => t.replace(/:/g, "").toUpperCase();
  if (norm(pinned) !== norm(sha1) && norm(pinned) !== norm(cert.fingerprint256)) {
    log.error("proxy_uri's #thumbprint= is not the vSPC's certificate: the VMs' hosts will refuse the TLS connection", { certificate_sha1: sha1, hint });
  }
}

const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * A host whose VM is not ours dials again and again: the first refusal of each reason is
 * logged at once, repeats at most once a minute with their count.
 */
function refusalLog(log: Logger) {
  const seen = new Map<string, { at: number; repeats: number }>();
  return {
    note(reason: string, peer: string) {
      const now = Date.now();
      const r = seen.get(reason);
      if (r && now - r.at < REFUSAL_LOG_INTERVAL_MS) {
        r.repeats++;
        return;
      }
      if (seen.size > 1000) seen.clear();
      log.warn("VM serial connection refused", { reason, peer, ...(r?.repeats ? { repeats_since_last_line: r.repeats } : {}) });
      seen.set(reason, { at: now, repeats: 0 });
    },
  };
}
