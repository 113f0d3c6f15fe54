// The [redfish] service: one HTTPS listener serving every registered machine as a
// ComputerSystem (redfish-systems.ts), with its certificate either configured or generated
// once into state_dir (private key 0600). It runs as one daemon service beside the BMCs.
import { createHash } from "node:crypto";
import type { RedfishConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import { splitListen } from "../net/listen.ts";
import { LoginLimiter } from "../redfish/login-limiter.ts";
import { type RedfishServer, startRedfishServer } from "../redfish/server.ts";
import { SessionStore } from "../redfish/sessions.ts";
import { TaskStore } from "../redfish/tasks.ts";
import type { MachineRegistry } from "./machine.ts";
import { redfishProvider } from "./redfish-systems.ts";
import { type ServiceTls, serviceTls } from "./service-tls.ts";

const sessionsGauge = metrics.gauge("esxkit_redfish_sessions", "Open Redfish sessions.");
const transfersGauge = metrics.gauge("esxkit_redfish_media_transfers", "Virtual media transfers by state.");
const GAUGE_INTERVAL_MS = 15_000;

export type RedfishTls = ServiceTls;

/** The configured PEM pair, or the self-signed one in state_dir (made on first use). */
export function redfishTls(cfg: RedfishConfig, stateDir: string, logger?: Logger): RedfishTls {
  return serviceTls({ tls_cert: cfg.tls_cert, tls_key: cfg.tls_key, listen: cfg.listen, stateDir, stem: "redfish" }, logger, "Redfish");
}


export interface RedfishServiceDeps {
  registry: MachineRegistry;
  stateDir: string;
  logger: Logger;
  version: string;
}

export function createRedfishService(cfg: RedfishConfig, deps: RedfishServiceDeps) {
  const logger = deps.logger.child("redfish");
  const provider = redfishProvider(deps.registry, logger);
  const sessions = new SessionStore({ idleTimeoutMs: cfg.session_timeout_s * 1000, max: cfg.max_sessions });
  const tasks = new TaskStore();
  let server: RedfishServer | undefined;
  let tls: RedfishTls | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const media = () =>
    provider.systems().flatMap((s) =>
      s.media().filter((m) => m.inserted || m.transfer).map((m) => ({ system: s.name, device: m.id, image: m.image, connected: m.connected, transfer: m.transfer?.state, bytes: m.transfer?.bytes, total: m.transfer?.total, error: m.transfer?.error })),
    );
  const updateGauges = () => {
    sessionsGauge.set(undefined, sessions.size);
    const counts: Record<string, number> = { downloading: 0, done: 0, failed: 0 };
    for (const m of media()) if (m.transfer) counts[m.transfer] = (counts[m.transfer] ?? 0) + 1;
    for (const [state, n] of Object.entries(counts)) transfersGauge.set({ state }, n);
  };

  return {
    async start() {
      tls = redfishTls(cfg, deps.stateDir, logger);
      const { hostname: host, port } = splitListen(cfg.listen, "redfish.listen");
      const serviceUuid = createHash("sha256").update(`esxkit-redfish:${tls.thumbprint}`).digest("hex");
      server = startRedfishServer({
        hostname: host,
        port,
        tls: { cert: tls.cert, key: tls.key },
        env: {
          provider,
          sessions,
          tasks,
          limiter: new LoginLimiter({ burst: 5, refillMs: 12_000 }),
          logger,
          credentials: { username: cfg.username, password: cfg.password },
          mediaWaitMs: cfg.media_wait_s * 1000,
          serviceUuid: `${serviceUuid.slice(0, 8)}-${serviceUuid.slice(8, 12)}-5${serviceUuid.slice(13, 16)}-a${serviceUuid.slice(17, 20)}-${serviceUuid.slice(20, 32)}`,
          version: deps.version,
        },
      });
      logger.info("Redfish listening", { url: server.url, systems: provider.systems().length, thumbprint: tls.thumbprint });
      timer = setInterval(updateGauges, GAUGE_INTERVAL_MS);
      timer.unref?.();
    },
    async stop() {
      clearInterval(timer);
      sessions.clear();
      await server?.stop();
      server = undefined;
      logger.info("Redfish stopped");
    },
    status(): Record<string, unknown> {
      return {
        listen: server ? server.url.replace(/^https:\/\//, "") : cfg.listen,
        listening: server !== undefined,
        thumbprint: tls?.thumbprint,
        systems: provider.systems().length,
        sessions: sessions.size,
        tasks: tasks.running().length,
        media: media(),
      };
    },
    /** The bound port (tests with port 0). */
    port(): number | undefined {
      return server?.port;
    },
  };
}
