// Reachability probes, each bounded by a deadline:
// - a host's SOAP endpoint: one sessionless RetrieveServiceContent on a fresh connection;
// - the protected VM's own address: a TCP connect;
// - isolation addresses: ICMP echo through the system `ping` (bare address) or a TCP connect
//   ("host:port"), where a refused connection also proves the path works.
import { connect } from "node:net";
import type { EndpointConfig } from "../config/types.ts";
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

/** The `ping` binary, if installed (iputils-ping). */
export function findPing(): string | undefined {
  return Bun.which("ping") ?? undefined;
}

async function icmpEcho(ping: string, address: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const waitS = Math.max(1, Math.ceil(timeoutMs / 1000));
  const proc = Bun.spawn([ping, "-n", "-q", "-c", "1", "-W", String(waitS), address], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const kill = () => proc.kill("SIGKILL");
  const timer = setTimeout(kill, timeoutMs + 500);
  signal?.addEventListener("abort", kill, { once: true });
  try {
    return (await proc.exited) === 0;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", kill);
  }
}

/** "host:port" / "[v6]:port" (TCP probe) rather than a bare IPv4/IPv6 address (ICMP)? */
export function isHostPort(address: string): boolean {
  return /:\d{1,5}$/.test(address) && !/^[0-9A-Fa-f:]+$/.test(address);
}

/** Checks that every isolation address is usable before the watchdog starts. */
export function validateIsolationAddresses(addresses: readonly string[]): void {
  for (const a of addresses) {
    if (isHostPort(a)) {
      parseHostPort(a, "isolation_addresses");
      continue;
    }
    if (!findPing()) {
      throw new Error(
        `isolation_addresses: "${a}" needs the ping command (iputils-ping), which is not installed; write "${a.includes(":") ? `[${a}]` : a}:PORT" for a TCP probe instead`,
      );
    }
  }
}

/** Is one isolation address reachable? "host:port" → TCP (connected or refused), else ICMP. */
export async function probeIsolationAddress(address: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  if (isHostPort(address)) {
    const { host, port } = parseHostPort(address, "isolation_addresses");
    const o = await tcpConnect(host, port, timeoutMs, signal);
    return o === "connected" || o === "refused";
  }
  const ping = findPing();
  if (!ping) return false;
  return icmpEcho(ping, address, timeoutMs, signal);
}

/**
 * The isolation guard. esxkit is isolated when it reaches none of its isolation addresses
 * (if any are configured), or none of the other hosts answered this round (if there are any).
 */
export function isIsolated(isolationReachable: readonly boolean[], otherHostsAnswered: readonly boolean[]): boolean {
  if (isolationReachable.length > 0 && !isolationReachable.some(Boolean)) return true;
  if (otherHostsAnswered.length > 0 && !otherHostsAnswered.some(Boolean)) return true;
  return false;
}
