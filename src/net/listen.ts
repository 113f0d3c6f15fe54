// A listener's "host:port" ("[::]:8443" for IPv6), as the config has already validated it.

export function splitListen(listen: string, what = "listen"): { hostname: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new RangeError(`${what}: expected host:port, got ${listen}`);
  return { hostname: m[1] as string, port: Number(m[2]) };
}
