// `esxkit doctor` end to end: connect to every endpoint, read the inventory, run the checks,
// and return a report. Connection failures become findings, so one dead host does not hide
// what the others show.
import type { Config, EndpointConfig } from "../config/types.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { VimClient } from "../vsphere/client.ts";
import { probeBmcSession } from "./bmc-probe.ts";
import { checkEvc } from "./checks/evc.ts";
import { checkMsmDiscovery } from "./checks/msm-discovery.ts";
import { checkUpgradeOrder } from "./checks/upgrade-order.ts";
import { checkUsbBoot } from "./checks/usb-boot.ts";
import { checkIsolation } from "./checks/isolation.ts";
import { checkSerialConsole } from "./checks/serial-console.ts";
import { checkWatchdog } from "./checks/watchdog.ts";
import { type EndpointReadout, mergeReadouts, readEndpoint } from "./collect.ts";
import { ev, makeFinding } from "./finding.ts";
import type { Inventory } from "./inventory.ts";
import { collectIsolationFacts } from "./isolation-facts.ts";
import { RULES } from "./rules.ts";
import { collectSerialFacts } from "./serial-facts.ts";
import { localVmwareMacs, locateSelfVm } from "./self-vm.ts";
import { type Finding, type Report, type ReportTarget, exitCodeFor, sortFindings, summarize } from "./types.ts";
import { type BmcProbe, collectWatchdogFacts } from "./watchdog-facts.ts";

export const DEFAULT_BMC_TIMEOUT_MS = 3000;

export interface DoctorOptions {
  endpoints: EndpointConfig[];
  /** The loaded config, for the [[watchdog]] checks (absent when targets come from flags). */
  config?: Config;
  logger?: Logger;
  now?: Date;
  probeBmc?: BmcProbe;
  bmcTimeoutMs?: number;
  /** The systemd unit `serve` runs under (default /etc/systemd/system/esxkit.service; absent: not checked). */
  unitFile?: string;
  /** This machine's vSphere-assigned MAC addresses (default: read from its interfaces), to find its own VM. */
  localMacs?: string[];
}

function message(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && code.startsWith("ESX_") ? `${err.message} [${code}]` : err.message;
  }
  return String(err);
}

/** The checks that only need the inventory. */
export function inventoryFindings(inv: Inventory): Finding[] {
  const findings: Finding[] = [];
  for (const u of inv.unreachable) {
    findings.push(
      makeFinding("endpoint.unreachable", {
        target: u.name,
        title: `Cannot read ${u.kind === "vcenter" ? "vCenter " : u.kind === "esxi" ? "ESXi " : ""}${u.name} (${u.url})`,
        evidence: [ev(u.name, "connect", u.error)],
        vars: { endpoint: u.name },
      }),
    );
  }
  for (const e of inv.readErrors) {
    const endpoint = e.split(":", 1)[0] ?? "";
    findings.push(makeFinding("endpoint.read-error", { target: endpoint, title: `Not everything could be read: ${e}`, evidence: [ev(endpoint, "read", e)], vars: { endpoint } }));
  }
  if (inv.endpoints.length === 0) return findings;
  // A disconnected host's config is stale or unset on vCenter: judge only connected hosts.
  const connected = (h: Inventory["hosts"][number]) => h.connectionState === undefined || h.connectionState === "connected";
  for (const h of inv.hosts.filter((x) => !connected(x))) {
    findings.push(
      makeFinding("endpoint.host-not-connected", {
        target: h.name,
        title: `${h.name} is ${h.connectionState} in ${h.endpoint}: its checks were skipped`,
        evidence: [ev(h.name, "runtime.connectionState", h.connectionState)],
      }),
    );
  }
  const live: Inventory = { ...inv, hosts: inv.hosts.filter(connected) };
  return [...findings, ...checkEvc(live), ...checkUpgradeOrder(live), ...checkUsbBoot(live), ...checkMsmDiscovery(live)];
}

export async function runDoctor(opts: DoctorOptions): Promise<Report> {
  const logger = (opts.logger ?? silentLogger).child("doctor");
  const now = opts.now ?? new Date();
  const since = new Date(now.getTime() - RULES.events.lookbackDays * 86_400_000);
  const clients = new Map<string, VimClient>();
  const unreachable: Inventory["unreachable"] = [];
  const readouts: EndpointReadout[] = [];
  const kindGuess = (e: EndpointConfig): "vcenter" | "esxi" | "unknown" =>
    opts.config?.esxi[e.name] ? "esxi" : opts.config?.vcenter[e.name] ? "vcenter" : "unknown";

  try {
    await Promise.all(
      opts.endpoints.map(async (e) => {
        let client: VimClient;
        try {
          client = await VimClient.connect(e, { logger });
        } catch (err) {
          logger.debug("connect failed", { endpoint: e.name, err });
          unreachable.push({ name: e.name, url: e.url, kind: kindGuess(e), error: message(err) });
          return;
        }
        clients.set(e.name, client);
        try {
          readouts.push(await readEndpoint(client, since));
        } catch (err) {
          logger.debug("read failed", { endpoint: e.name, err });
          unreachable.push({ name: e.name, url: e.url, kind: client.isVCenter ? "vcenter" : "esxi", error: `read failed: ${message(err)}` });
          clients.delete(e.name);
          await client.close();
        }
      }),
    );
    // Stable order whatever finished first: as configured.
    const order = new Map(opts.endpoints.map((e, i) => [e.name, i]));
    readouts.sort((a, b) => (order.get(a.endpoint.name) ?? 0) - (order.get(b.endpoint.name) ?? 0));
    unreachable.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
    const inv = mergeReadouts(readouts, unreachable);

    const findings = inventoryFindings(inv);
    const watchdogs = opts.config?.watchdog ?? [];
    const selfVm = watchdogs.some((w) => !w.self_host) ? await locateSelfVm(inv, clients, opts.localMacs ?? localVmwareMacs()) : undefined;
    for (const w of watchdogs) {
      const facts = await collectWatchdogFacts({
        watchdog: w,
        config: opts.config as Config,
        inventory: inv,
        clients,
        probeBmc: opts.probeBmc ?? probeBmcSession,
        bmcTimeoutMs: opts.bmcTimeoutMs ?? DEFAULT_BMC_TIMEOUT_MS,
        ...(selfVm ? { selfVm } : {}),
      });
      findings.push(...checkWatchdog(facts));
      const isolation = await collectIsolationFacts(w, { unitFile: opts.unitFile, timeoutMs: Math.min(w.probe_timeout_ms, 2000) });
      if (isolation) findings.push(...checkIsolation(isolation));
    }
    if (opts.config?.bmc.some((b) => b.serial)) findings.push(...checkSerialConsole(await collectSerialFacts(opts.config, clients)));

    const targets: ReportTarget[] = opts.endpoints.map((e) => {
      const r = readouts.find((x) => x.endpoint.name === e.name);
      const u = unreachable.find((x) => x.name === e.name);
      return {
        name: e.name,
        url: e.url,
        kind: r?.endpoint.kind ?? u?.kind ?? kindGuess(e),
        ...(r ? { product: r.endpoint.fullName } : {}),
        ...(u ? { error: u.error } : {}),
      };
    });
    const sorted = sortFindings(findings);
    return {
      generatedAt: now.toISOString(),
      esxkitVersion: VERSION,
      targets,
      findings: sorted,
      summary: summarize(sorted),
      exitCode: exitCodeFor(sorted),
    };
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
}
