// Binding an HTTP listener (Bun.serve), with its failure worded for a field engineer: Bun says
// only "Failed to start server. Is port N in use?", and says it for a host name that does not
// resolve as well.
import { isIP } from "node:net";
import { BindError } from "../errors.ts";

/** Runs `start` (a Bun.serve call on hostname:port); a bind failure becomes a BindError that says why. */
export function bindHttp<S>(hostname: string, port: number, start: () => S): S {
  try {
    return start();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const where = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/tcp`;
    const text =
      code === "EADDRINUSE"
        ? `${where}: port ${port} is already in use (EADDRINUSE): another process listens there${isIP(hostname) ? "" : `, or ${hostname} does not resolve to an address of this host`}`
        : code === "EADDRNOTAVAIL"
          ? `${where}: address ${hostname} not available on this host`
          : code === "EACCES" && port < 1024
            ? `${where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE`
            : `cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`;
    throw new BindError(text, code, { cause: err });
  }
}
