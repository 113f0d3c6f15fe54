// Small statistics helpers shared by the benchmarks.
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
