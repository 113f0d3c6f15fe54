// A socket that could not be bound, worded for `status`, the log and systemd's STATUS line: the
// address, the OS's code and what to do about it. Shared by the BMCs' UDP sockets and the HTTP
// listeners (Bun.serve says only "Failed to start server. Is port N in use?", and says it for
// a host name that does not resolve as well).
import { isIP } from "node:net";
import { BindError, errorCode } from "../errors.ts";

export interface BindTarget {
  address: string;
  port: number;
  transport: "udp" | "tcp";
  /** Who may hold the port, for EADDRINUSE; default "another process listens there". */
  holders?: string;
}

export function bindError(t: BindTarget, err: unknown): BindError {
  const code = errorCode(err);
  const where = `${t.address.includes(":") ? `[${t.address}]` : t.address}:${t.port}/${t.transport}`;
  const holders = `${t.holders ?? "another process listens there"}${isIP(t.address) ? "" : `, or ${t.address} does not resolve to an address of this host`}`;
  const text =
    code === "EADDRNOTAVAIL"
      ? `${where}: address ${t.address} not available on this host`
      : code === "EADDRINUSE"
        ? `${where} in use (EADDRINUSE): ${holders}`
        : code === "EACCES" && t.port < 1024
          ? `${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE (\`setcap cap_net_bind_service=+ep esxkit\`, or AmbientCapabilities=CAP_NET_BIND_SERVICE in the unit)`
          : `cannot bind ${where}: ${err instanceof Error ? err.message : String(err)}`;
  return new BindError(text, code, { cause: err });
}

/** Runs `start` (a Bun.serve call on hostname:port); a bind failure becomes a BindError that says why. */
export function bindHttp<S>(hostname: string, port: number, start: () => S): S {
  try {
    return start();
  } catch (err) {
    throw bindError({ address: hostname, port, transport: "tcp" }, err);
  }
}
