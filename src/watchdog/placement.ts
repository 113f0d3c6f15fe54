// Choosing the host to restart the protected VM on. Pure: the facts are gathered elsewhere.
// Rules: connected, the VM's datastore mounted and accessible, not in maintenance mode, not
// the failed host, not the host esxkit itself runs on; then hosts that carry all of the VM's
// networks first, then most free memory, then the host's name. Never the order of `hosts` in the
// config: two esxkit instances whose lists differ only in order must choose alike.
import { datastoreByUrl, type DatastoreName } from "./datastore-path.ts";

export interface CandidateFacts {
  host: string;
  /** Did the host answer its probes (hysteresis "up")? */
  healthy: boolean;
  /** HostSystem.runtime.connectionState; a standalone ESXi reports "connected". */
  connectionState?: string;
  inMaintenanceMode?: boolean;
  /** Bytes of memory not in use (summary.hardware.memorySize − quickStats.overallMemoryUsage). */
  freeMemoryBytes?: number;
  datastores: DatastoreName[];
  /** Network names the host offers. */
  networks?: string[];
  /** Why the facts could not be read, if they could not. */
  error?: string;
}

export interface PlacementInput {
  candidates: CandidateFacts[];
  failedHost: string;
  selfHost?: string;
  datastoreUrl: string;
  networks: string[];
}

export interface PlacementResult {
  chosen?: string;
  /** Every host considered and left out, with the reason. */
  rejected: { host: string; reason: string }[];
  /** The eligible hosts, best first. */
  ranked: string[];
  /** The VM's networks the chosen host does not offer (its NICs there stay disconnected). */
  missingNetworks: string[];
}

export function rejectionReason(c: CandidateFacts, input: Pick<PlacementInput, "failedHost" | "selfHost" | "datastoreUrl">): string | undefined {
  if (c.host === input.failedHost) return "it is the failed host";
  if (input.selfHost !== undefined && c.host === input.selfHost) return "esxkit runs on it (anti-affinity)";
  if (c.error) return `its facts could not be read: ${c.error}`;
  if (!c.healthy) return "it does not answer its probes";
  if (c.connectionState !== undefined && c.connectionState !== "connected") return `connectionState is ${c.connectionState}`;
  if (c.inMaintenanceMode) return "it is in maintenance mode";
  const ds = datastoreByUrl(c.datastores, input.datastoreUrl);
  if (!ds) return `it does not mount the datastore ${input.datastoreUrl}`;
  if (ds.accessible === false) return `the datastore ${ds.name} is not accessible on it`;
  return undefined;
}

export function chooseTarget(input: PlacementInput): PlacementResult {
  const rejected: PlacementResult["rejected"] = [];
  const eligible: CandidateFacts[] = [];
  for (const c of input.candidates) {
    const reason = rejectionReason(c, input);
    if (reason) rejected.push({ host: c.host, reason });
    else eligible.push(c);
  }
  const missing = (c: CandidateFacts) => input.networks.filter((n) => !(c.networks?.includes(n) ?? false));
  const hasNetworks = (c: CandidateFacts) => missing(c).length === 0;
  eligible.sort(
    (a, b) =>
      Number(hasNetworks(b)) - Number(hasNetworks(a)) ||
      (b.freeMemoryBytes ?? 0) - (a.freeMemoryBytes ?? 0) ||
      (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
  );
  const ranked = eligible.map((c) => c.host);
  return { chosen: ranked[0], rejected, ranked, missingNetworks: eligible[0] ? missing(eligible[0]) : [] };
}
