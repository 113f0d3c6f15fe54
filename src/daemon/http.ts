// The opt-in health and metrics listener: GET /healthz and GET /metrics (Prometheus text).
import { metrics } from "../log/metrics.ts";
import type { Daemon } from "./daemon.ts";

export interface MetricsServer {
  url: string;
  stop(): Promise<void>;
}

function splitHostPort(listen: string): { hostname: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`metrics_listen: expected host:port, got ${listen}`);
  return { hostname: m[1] as string, port: Number(m[2]) };
}

export function startMetricsServer(listen: string, daemon: Daemon): MetricsServer {
  const { hostname, port } = splitHostPort(listen);
  const up = metrics.gauge("esxkit_up", "1 while esxkit serve runs");
  up.set(undefined, 1);
  const services = metrics.gauge("esxkit_services", "running services by kind");
  const server = Bun.serve({
    hostname,
    port,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
      if (path === "/healthz") {
        if (daemon.config === undefined) return new Response("starting\n", { status: 503 });
        // A protected VM running on two hosts is not healthy, whatever else is.
        const split = daemon.services.status().filter((s) => s.kind === "watchdog" && s.state === "split_brain");
        if (split.length) return new Response(split.map((s) => `split brain: watchdog ${s.name}: ${String(s.reason ?? "")}\n`).join(""), { status: 503 });
        return new Response("ok\n", { status: 200 });
      }
      if (path === "/metrics") {
        const counts: Record<string, number> = { bmc: 0, slp: 0, watchdog: 0 };
        for (const s of daemon.services.status()) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
        for (const [kind, n] of Object.entries(counts)) services.set({ kind }, n);
        return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
      }
      return new Response("not found\n", { status: 404 });
    },
  });
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`,
    async stop() {
      await server.stop(true);
    },
  };
}
