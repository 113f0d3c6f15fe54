// Loopback peers for the doctor's tests: real BMCs (pyghmi), and ports nothing listens on.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";

const root = join(import.meta.dir, "../../..");
const READY_TIMEOUT_MS = 10_000;
const live = new Set<Subprocess>();

/** A UDP port on 127.0.0.1 that nothing listens on (bound, noted, closed). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A TCP port on 127.0.0.1 that nothing listens on. */
export async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (!addr || typeof addr === "string") throw new Error("no TCP port");
  return addr.port;
}

/**
 * pyghmi's BMC server (Debian python3-pyghmi, run with /usr/bin/python3) on 127.0.0.1,
 * user admin / password secret. Resolves with its UDP port once it prints "ready".
 * `systemGuid`: the uuid its Get System GUID reports (SMBIOS byte order); default: none (0xC1).
 */
export async function startPyghmiBmc(systemGuid?: string): Promise<number> {
  const port = await freeUdpPort();
  const proc = Bun.spawn(["/usr/bin/python3", join(root, "test/support/ipmi/pyghmi_bmc.py"), String(port), "admin", "secret", ...(systemGuid ? [systemGuid] : [])], { stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), READY_TIMEOUT_MS);
  const reader = proc.stdout.getReader();
  let text = "";
  try {
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`pyghmi BMC on port ${port} exited before it was ready: ${await new Response(proc.stderr).text()}`);
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return port;
}

/** Kill every peer this module started; resolves once they are gone. */
export async function stopAll(): Promise<void> {
  const procs = [...live];
  live.clear();
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
}
