// The opt-in health and metrics listener: GET /healthz and GET /metrics (Prometheus text).
import { metrics } from "../log/metrics.ts";
import { bindHttp } from "../net/bind-error.ts";
import { splitListen } from "../net/listen.ts";
import type { Daemon } from "./daemon.ts";
import { healthOf } from "./health.ts";

export interface MetricsServer {
  url: string;
  stop(): Promise<void>;
}

export function startMetricsServer(listen: string, daemon: Daemon): MetricsServer {
  const { hostname, port } = splitListen(listen, "metrics_listen");
  const up = metrics.gauge("esxkit_up", "1 while esxkit serve runs");
  up.set(undefined, 1);
  const services = metrics.gauge("esxkit_services", "running services by kind");
  const serviceUp = metrics.gauge("esxkit_service_up", "1 while the service runs, 0 while it is down (its start is being retried)");
  const vcenterUp = metrics.gauge("esxkit_vcenter_up", "1 while the vCenter answers (its property watch or a direct read within the expected interval), else 0");
  function answer(req: Request): Response {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
    if (path === "/healthz") {
      if (daemon.config === undefined) return new Response("starting\n", { status: 503 });
      const h = healthOf(daemon);
      return new Response(h.ok ? "ok\n" : `unhealthy: ${h.summary}\n`, { status: h.ok ? 200 : 503 });
    }
    if (path === "/metrics") {
      const counts: Record<string, number> = { bmc: 0, slp: 0, watchdog: 0 };
      serviceUp.clear();
      for (const s of daemon.services.status()) {
        if (s.up) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
        serviceUp.set({ kind: s.kind, name: s.name }, s.up ? 1 : 0);
      }
      for (const [kind, n] of Object.entries(counts)) services.set({ kind }, n);
      vcenterUp.clear();
      for (const c of daemon.connections()) vcenterUp.set({ name: c.name }, c.connected ? 1 : 0);
      return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
    }
    return new Response("not found\n", { status: 404 });
  }
  const server = bindHttp(hostname, port, () => Bun.serve({ hostname, port, fetch: answer }));
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`,
    async stop() {
      await server.stop(true);
    },
  };
}
