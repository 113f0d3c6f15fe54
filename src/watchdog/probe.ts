// Reachability probes, each bounded by a deadline:
// - a host's SOAP endpoint: one sessionless RetrieveServiceContent on a fresh connection;
// - the protected VM's own address: a TCP connect;
// - isolation addresses: an in-process ICMP echo (bare address; src/net/icmp.ts says why not
//   the system `ping`) or a TCP connect ("host:port"), where a refused connection also proves
//   the path works.
import { connect, isIPv4, isIPv6 } from "node:net";
import type { EndpointConfig } from "../config/types.ts";
import { icmpEcho, type IcmpMethod, icmpMethod } from "../net/icmp.ts";
import { probeServiceContent } from "../vsphere/client.ts";

/** "host:port" or "[v6]:port" → parts. Throws with the offending text. */
export function parseHostPort(text: string, what = "address"): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`${what}: expected "host:port" (IPv6 in brackets), got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** true when RetrieveServiceContent answered within `timeoutMs`. */
export async function probeHostApi(endpoint: EndpointConfig, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await probeServiceContent(endpoint, timeoutMs, { signal });
    return true;
  } catch {
    return false;
  }
}

export type TcpOutcome = "connected" | "refused" | "timeout" | "unreachable";

/** One TCP connect attempt, never longer than `timeoutMs`. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host, port });
    const finish = (o: TcpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(o);
    };
    const onAbort = () => finish("timeout");
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish("connected"));
    socket.once("error", (err: NodeJS.ErrnoException) => finish(err.code === "ECONNREFUSED" ? "refused" : "unreachable"));
  });
}

/**
 * Does the protected VM answer on its own address? Only a completed connection counts: a VM
 * whose service refuses is treated as not answering, like one that is silent.
 */
export async function probeVm(hostPort: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const { host, port } = parseHostPort(hostPort, "vm_probe");
  return (await tcpConnect(host, port, timeoutMs, signal)) === "connected";
}

/** "host:port" / "[v6]:port" (TCP probe) rather than a bare IPv4/IPv6 address (ICMP)? */
export function isHostPort(address: string): boolean {
  return /:\d{1,5}$/.test(address) && !/^[0-9A-Fa-f:]+$/.test(address);
}

/**
 * Checks that every isolation address can be probed before the watchdog starts: "host:port" is
 * well formed, a bare address is an IP literal and this process can open an ICMP socket for it.
 * Returns how the ICMP probes will be sent (for the start-up log); throws naming the address.
 */
export function validateIsolationAddresses(addresses: readonly string[]): IcmpMethod | undefined {
  let method: IcmpMethod | undefined;
  for (const a of addresses) {
    if (isHostPort(a)) {
      parseHostPort(a, "isolation_addresses");
      continue;
    }
    const family = isIPv4(a) ? 4 : isIPv6(a) ? 6 : undefined;
    if (!family) throw new Error(`isolation_addresses: "${a}" is neither an IP address (ICMP probe) nor "host:port" (TCP probe)`);
    try {
      method = icmpMethod(family);
    } catch (err) {
      throw new Error(`isolation_addresses: "${a}" cannot be probed: ${(err as Error).message}`);
    }
  }
  return method;
}

/** One isolation address's answer: reachable, unreachable, or the probe could not run at all. */
export interface IsolationResult {
  address: string;
  outcome: "reachable" | "unreachable" | "error";
  /** Why it is unreachable ("timeout", "no route") or why the probe could not run. */
  detail?: string;
}

/** Probes one isolation address. "host:port" → TCP (connected or refused = reachable), else ICMP echo. */
export async function probeIsolationAddress(address: string, timeoutMs: number, signal?: AbortSignal): Promise<IsolationResult> {
  try {
    if (isHostPort(address)) {
      const { host, port } = parseHostPort(address, "isolation_addresses");
      const o = await tcpConnect(host, port, timeoutMs, signal);
      return o === "connected" || o === "refused" ? { address, outcome: "reachable" } : { address, outcome: "unreachable", detail: o };
    }
    const o = await icmpEcho(address, timeoutMs, signal);
    return o === "reply" ? { address, outcome: "reachable" } : { address, outcome: "unreachable", detail: o === "timeout" ? "no echo reply" : "no route" };
  } catch (err) {
    // A probe that cannot run says nothing about the address: never report it as unreachable.
    return { address, outcome: "error", detail: (err as Error).message };
  }
}

export interface IsolationVerdict {
  isolated: boolean;
  /** Which probes failed, in words: the alert's text when isolated, a note otherwise. */
  detail?: string;
}

function describeAddress(r: IsolationResult): string {
  return r.outcome === "error" ? `${r.address} (probe cannot run: ${r.detail})` : `${r.address} (${r.detail ?? "unreachable"})`;
}

/**
 * The isolation guard, as config.toml documents it: esxkit takes no action only when it reaches
 * none of its isolation addresses NOR another host. A dead gateway alone is not isolation while
 * another host still answers (and the fence through the BMC must still be confirmed).
 */
export function isolationVerdict(isolation: readonly IsolationResult[], others: ReadonlyArray<{ host: string; answered: boolean }>): IsolationVerdict {
  const failed = isolation.filter((r) => r.outcome !== "reachable");
  const silent = others.filter((o) => !o.answered);
  const addressText = failed.length ? `isolation address${failed.length > 1 ? "es" : ""} ${failed.map(describeAddress).join(", ")}` : "";
  if (isolation.length + others.length === 0) return { isolated: false };
  const reachesAddress = failed.length < isolation.length;
  const reachesHost = silent.length < others.length;
  if (!reachesAddress && !reachesHost) {
    const hosts = others.length ? `another host (${silent.map((o) => o.host).join(", ")} did not answer)` : "another host (none configured)";
    const addrs = isolation.length ? `its ${addressText}` : "an isolation address (none configured)";
    return { isolated: true, detail: `esxkit reaches neither ${addrs} nor ${hosts}` };
  }
  if (!failed.length) return { isolated: false };
  const answering = others.filter((o) => o.answered).map((o) => o.host);
  const but = answering.length ? `${answering.join(", ")} answer${answering.length > 1 ? "" : "s"}` : "another isolation address answers";
  return { isolated: false, detail: `${addressText} failed, but ${but}: not isolated` };
}
