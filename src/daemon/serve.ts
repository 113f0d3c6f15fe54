// Everything `esxkit serve` does around the services: the control socket, the metrics
// listener, systemd notifications, and the signals (SIGHUP reload, SIGTERM/SIGINT stop).
import { loadServiceConfig } from "./config-checks.ts";
import { ServeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { controlSocketAnswers, startControlServer, type ControlServer } from "./control.ts";
import { Daemon } from "./daemon.ts";
import { healthOf } from "./health.ts";
import { startMetricsServer, type MetricsServer } from "./http.ts";
import { createPlanner } from "./plan.ts";
import { monotonicUsec, sdNotify, startWatchdogPings } from "./sdnotify.ts";

const STATUS_REFRESH_MS = 5000;

const statusLine = (d: Daemon) => healthOf(d).summary;

/** Runs until SIGTERM/SIGINT. Throws ConfigError if the initial config is invalid. */
export async function runServe(configPath: string, logger: Logger): Promise<void> {
  const config = loadServiceConfig(configPath, { checkStateDir: true });
  for (const e of Object.values({ ...config.vcenter, ...config.esxi })) {
    if (e.tls.mode === "insecure") logger.warn("TLS verification is off for this endpoint (insecure = true)", { endpoint: e.name, url: e.url });
  }
  // A second instance on the same config would fight the first for its ports and socket.
  if (await controlSocketAnswers(config.daemon.control_socket)) {
    throw new ServeError(`another esxkit is already serving on ${config.daemon.control_socket}; stop it or set daemon.control_socket to another path`);
  }
  const planner = createPlanner(logger);
  let control: ControlServer | undefined;
  let metricsServer: MetricsServer | undefined;
  // systemd's STATUS follows services coming up or down and vCenters going away, not only reloads.
  let lastStatus = "";
  const notifyStatus = () => {
    const line = statusLine(daemon);
    if (line === lastStatus) return;
    lastStatus = line;
    sdNotify(`STATUS=${line}`);
  };
  const daemon: Daemon = new Daemon(configPath, logger, {
    plan: planner.plan,
    onReloading: () => {
      sdNotify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`);
    },
    onReloadRejected: () => {
      sdNotify(`READY=1\nSTATUS=reload rejected; running the previous config (${statusLine(daemon)})`);
    },
    onApplied: async (applied) => {
      await planner.afterApply(applied);
      // READY even with services down: the daemon runs and retries them; STATUS says what is down.
      lastStatus = statusLine(daemon);
      sdNotify(`READY=1\nSTATUS=${lastStatus}`);
    },
    onServicesChanged: () => notifyStatus(),
    connections: () => planner.connections(),
    consoles: () => planner.consoles(),
    onStop: async () => {
      await control?.stop();
      await metricsServer?.stop();
      await planner.close();
    },
  });
  // Services that cannot start yet (a busy port, an address that comes up later) are retried
  // in place with backoff: exiting would lose the ones that did start.
  await daemon.start(config);
  try {
    control = await startControlServer(config.daemon.control_socket, daemon, logger.child("control"));
    logger.info("control socket listening", { path: control.path });
  } catch (err) {
    logger.error("control socket unavailable; esxkit status/pause will not work", { path: config.daemon.control_socket, error: err });
  }
  // Like the control socket: a busy metrics port must not take the BMCs down with it (nor
  // leave them running with no signal handlers, as an uncaught throw here did).
  if (config.daemon.metrics_listen) {
    try {
      metricsServer = startMetricsServer(config.daemon.metrics_listen, daemon);
      logger.info("metrics listening", { url: metricsServer.url });
    } catch (err) {
      logger.error("metrics listener unavailable; /healthz and /metrics will not answer", { listen: config.daemon.metrics_listen, error: err });
    }
  }
  const stopPings = startWatchdogPings();
  const statusTimer = setInterval(() => notifyStatus(), STATUS_REFRESH_MS);
  statusTimer.unref?.();
  logger.info("esxkit serving", { status: statusLine(daemon) });

  await new Promise<void>((resolve) => {
    process.on("SIGHUP", () => {
      logger.info("SIGHUP: reloading configuration");
      void daemon.reload();
    });
    const shutdown = (signal: string) => {
      logger.info("stopping", { signal });
      sdNotify("STOPPING=1");
      stopPings();
      clearInterval(statusTimer);
      void daemon.stop().then(resolve);
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  logger.info("stopped");
}
