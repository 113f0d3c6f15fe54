// sd_notify(3) without libsystemd: node:dgram has no AF_UNIX, so we send the datagram
// through libc with bun:ffi. Supports path and abstract ("@name") sockets.
import { ptr } from "bun:ffi";
import { loadLibc, SOCK_CLOEXEC, SOCK_DGRAM } from "../net/libc.ts";

const AF_UNIX = 1;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;
const CLOCK_MONOTONIC = 1;

function sockaddr(path: string): { addr: Uint8Array; len: number } {
  const name = Buffer.from(path.startsWith("@") ? `\0${path.slice(1)}` : path, "utf8");
  if (name.length >= SUN_PATH_MAX) throw new Error(`NOTIFY_SOCKET path too long (${name.length} bytes)`);
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  // Abstract addresses are length-delimited; path addresses include the terminating NUL.
  return { addr, len: 2 + name.length + (path.startsWith("@") ? 0 : 1) };
}

/**
 * Sends one notification (e.g. "READY=1\nSTATUS=…") to $NOTIFY_SOCKET.
 * Returns false when not running under systemd (no socket) — not an error.
 */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const c = loadLibc();
  const { addr, len } = sockaddr(socketPath);
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error("sd_notify: socket() failed");
  try {
    const msg = Buffer.from(state, "utf8");
    const sent = Number(c.sendto(fd, ptr(msg), msg.length, MSG_NOSIGNAL, ptr(addr), len));
    if (sent !== msg.length) throw new Error(`sd_notify: sendto() to ${socketPath} failed`);
    return true;
  } finally {
    c.close(fd);
  }
}

/** CLOCK_MONOTONIC in microseconds (Bun's hrtime counts from process start, not boot). */
export function monotonicUsec(): bigint {
  const ts = new BigInt64Array(2);
  loadLibc().clock_gettime(CLOCK_MONOTONIC, ptr(ts));
  return (ts[0] as bigint) * 1_000_000n + (ts[1] as bigint) / 1000n;
}

/**
 * Starts WATCHDOG=1 keep-alives at half of $WATCHDOG_USEC when systemd asks for them
 * (and $WATCHDOG_PID, if set, is us). Returns a stop function.
 */
export function startWatchdogPings(env: NodeJS.ProcessEnv = process.env): () => void {
  const usec = Number(env.WATCHDOG_USEC ?? 0);
  if (!env.NOTIFY_SOCKET || !usec) return () => {};
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return () => {};
  const timer = setInterval(() => sdNotify("WATCHDOG=1", env.NOTIFY_SOCKET), Math.max(100, usec / 2000));
  timer.unref?.();
  return () => clearInterval(timer);
}

