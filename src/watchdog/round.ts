// One probe round: every host's SOAP endpoint, the VM's own address and the isolation
// addresses, all at once, each bounded by probe_timeout_ms.
import type { EsxiConfig, WatchdogConfig } from "../config/types.ts";
import { type IsolationResult, probeHostApi, probeIsolationAddress, probeVm } from "./probe.ts";

export interface RoundResult {
  /** host → answered RetrieveServiceContent in time. */
  answered: Record<string, boolean>;
  /** undefined when no vm_probe is configured. */
  vmAnswers?: boolean;
  /** One entry per isolation address, in config order. */
  isolation: IsolationResult[];
}

export interface Probes {
  host(endpoint: EsxiConfig, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  vm(hostPort: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  isolation(address: string, timeoutMs: number, signal?: AbortSignal): Promise<IsolationResult>;
}

export const realProbes: Probes = {
  host: (e, t, s) => {
    const { bmc: _bmc, ...endpoint } = e;
    return probeHostApi(endpoint, t, s);
  },
  vm: probeVm,
  isolation: probeIsolationAddress,
};

export async function probeRound(cfg: WatchdogConfig, esxi: Record<string, EsxiConfig>, probes: Probes, signal?: AbortSignal): Promise<RoundResult> {
  const t = cfg.probe_timeout_ms;
  const safe = (p: Promise<boolean>) => p.catch(() => false);
  const [hostResults, vmAnswers, isolation] = await Promise.all([
    Promise.all(cfg.hosts.map((h) => (esxi[h] ? safe(probes.host(esxi[h], t, signal)) : Promise.resolve(false)))),
    cfg.vm_probe ? safe(probes.vm(cfg.vm_probe, t, signal)) : Promise.resolve(undefined),
    Promise.all(cfg.isolation_addresses.map((a) => probes.isolation(a, t, signal).catch((err: Error): IsolationResult => ({ address: a, outcome: "error", detail: err.message })))),
  ]);
  const answered: Record<string, boolean> = {};
  cfg.hosts.forEach((h, i) => {
    answered[h] = hostResults[i] ?? false;
  });
  return { answered, vmAnswers, isolation };
}
