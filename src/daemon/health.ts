// One answer to "is esxkit well?", shared by `esxkit status`, GET /healthz, /metrics and
// systemd's STATUS line, so they cannot disagree. Unwell: a service is down (being retried),
// a vCenter that BMCs depend on stopped answering, or a watchdog sees split brain. An ESXi host a watchdog cannot reach
// is shown but is not unwell: noticing dead hosts is the watchdog's job.
import type { ConnectionStatus } from "../bmc/hub-health.ts";
import type { Daemon } from "./daemon.ts";
import type { DownService, ServiceStatus } from "./reconcile.ts";

export type { ConnectionStatus };

export interface Health {
  ok: boolean;
  services: { total: number; down: number };
  down: DownService[];
  /** vCenters that answered once, or failed, and are not connected now. */
  disconnected: ConnectionStatus[];
  connections: ConnectionStatus[];
  /** One line: what runs, and what does not and why. */
  summary: string;
}

/** ESXi rows from the watchdogs' host health (deduplicated by host). */
function esxiConnections(services: ServiceStatus[]): ConnectionStatus[] {
  const rows = new Map<string, ConnectionStatus>();
  for (const s of services) {
    if (s.kind !== "watchdog" || !s.hosts || typeof s.hosts !== "object") continue;
    for (const [host, h] of Object.entries(s.hosts as Record<string, { health?: string; misses?: number }>)) {
      if (rows.has(host)) continue;
      const row: ConnectionStatus = { kind: "esxi", name: host, connected: h.health === "up" };
      if (h.health === "down") row.last_error = `no answer to ${h.misses ?? "?"} probes`;
      rows.set(host, row);
    }
  }
  return [...rows.values()];
}

/** What runs: "2 BMC, 1 SLP, 0 watchdog" (services up). */
function counts(services: ServiceStatus[]): string {
  const n: Record<string, number> = {};
  for (const s of services) if (s.up) n[s.kind] = (n[s.kind] ?? 0) + 1;
  return `${n.bmc ?? 0} BMC, ${n.redfish ? "Redfish, " : ""}${n.slp ?? 0} SLP, ${n.watchdog ?? 0} watchdog`;
}

export function healthOf(daemon: Daemon): Health {
  const services = daemon.services.status();
  const down = daemon.services.down();
  const vcenters = daemon.connections();
  const connections = [...vcenters, ...esxiConnections(services)];
  // Not yet heard from and no error: still connecting at start, not an outage.
  const disconnected = vcenters.filter((c) => !c.connected && (c.last_error !== undefined || c.last_sync !== undefined));
  const problems: string[] = [];
  if (down.length) problems.push(`${down.length} of ${services.length} services down: ${down.map((d) => `${d.kind} ${d.name} (${d.error}, retrying)`).join("; ")}`);
  for (const c of disconnected) problems.push(`vcenter ${c.name} not answering${c.last_error ? ` (${c.last_error})` : ""}`);
  // A protected VM running on two hosts is not well, whatever else is.
  for (const s of services) if (s.kind === "watchdog" && s.state === "split_brain") problems.push(`split brain: watchdog ${s.name}: ${String(s.reason ?? "")}`);
  return {
    ok: problems.length === 0,
    services: { total: services.length, down: down.length },
    down,
    disconnected,
    connections,
    summary: [counts(services), ...problems].join("; "),
  };
}
