// Small statistics helpers shared by the benchmarks.
import { readFileSync } from "node:fs";
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export function freeUdpPort(): Promise<number> {
  return (async () => {
    const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const p = s.port;
    s.close();
    return p;
  })();
}

/** CPU time (user + system) a process has used so far, in µs, from /proc (clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
