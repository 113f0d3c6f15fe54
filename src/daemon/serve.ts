// Everything `esxkit serve` does around the services: the control socket, the metrics
// listener, systemd notifications, and the signals (SIGHUP reload, SIGTERM/SIGINT stop).
import { loadConfig } from "../config/load.ts";
import { ServeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { controlSocketAnswers, startControlServer, type ControlServer } from "./control.ts";
import { Daemon } from "./daemon.ts";
import { startMetricsServer, type MetricsServer } from "./http.ts";
import { createPlanner } from "./plan.ts";
import { monotonicUsec, sdNotify, startWatchdogPings } from "./sdnotify.ts";

function statusLine(d: Daemon): string {
  const counts: Record<string, number> = {};
  for (const s of d.services.status()) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
  return `${counts.bmc ?? 0} BMC, ${counts.redfish ? "Redfish, " : ""}${counts.slp ?? 0} SLP, ${counts.watchdog ?? 0} watchdog`;
}

/** Runs until SIGTERM/SIGINT. Throws ConfigError if the initial config is invalid. */
export async function runServe(configPath: string, logger: Logger): Promise<void> {
  const config = loadConfig(configPath);
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
      sdNotify(`READY=1\nSTATUS=${statusLine(daemon)}`);
    },
    onStop: async () => {
      await control?.stop();
      await metricsServer?.stop();
      await planner.close();
    },
  });
  const first = await daemon.start(config);
  if (first.failed.length > 0 && first.started.length === 0) {
    // Nothing runs: exit non-zero so systemd's Restart=on-failure can try again.
    await daemon.stop();
    throw new ServeError(`no service could start: ${first.failed.map((f) => `${f.key}: ${f.error}`).join("; ")}`);
  }
  try {
    control = await startControlServer(config.daemon.control_socket, daemon, logger.child("control"));
    logger.info("control socket listening", { path: control.path });
  } catch (err) {
    logger.error("control socket unavailable; esxkit status/pause will not work", { path: config.daemon.control_socket, error: err });
  }
  if (config.daemon.metrics_listen) {
    metricsServer = startMetricsServer(config.daemon.metrics_listen, daemon);
    logger.info("metrics listening", { url: metricsServer.url });
  }
  const stopPings = startWatchdogPings();
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
      void daemon.stop().then(resolve);
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  logger.info("stopped");
}
