// Server time from a tshark capture on lo: for each client (source port), the gap from each
// request datagram to the server's next datagram back to that client.
import { spawnSync } from "bun";

/** Gaps in µs, in capture order, for datagrams to and from `serverPort`; datagrams of `minPayload` bytes or fewer (ASF pings) are left out. */
export function serverTimes(file: string, serverPort: number, minPayload = 12): number[] {
  const p = spawnSync(["tshark", "-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.length"], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`tshark -r failed: ${p.stderr.toString()}`);
  const gaps: number[] = [];
  const pending = new Map<number, number>();
  for (const line of p.stdout.toString().split("\n")) {
    const [t, src, dst, len] = line.split("\t");
    if (!t || Number(len) - 8 <= minPayload) continue;
    // Seconds with a fraction: to integer µs without floating-point loss.
    const [s, frac = ""] = t.split(".");
    const us = Number(s) * 1e6 + Number(frac.padEnd(6, "0").slice(0, 6));
    if (Number(dst) === serverPort) pending.set(Number(src), us);
    else if (Number(src) === serverPort) {
      const at = pending.get(Number(dst));
      if (at === undefined) continue;
      gaps.push(us - at);
      pending.delete(Number(dst));
    }
  }
  return gaps;
}
