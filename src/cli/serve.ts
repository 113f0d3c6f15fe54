import { defineCommand } from "citty";
import { Daemon } from "../daemon/daemon.ts";
import { planServices } from "../daemon/plan.ts";
import { loadConfig } from "../config/load.ts";
import { configArg, findConfigPath, logArgs, loggerFromArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "serve", description: "run every configured BMC, SLP entry and watchdog (SIGHUP reloads, SIGTERM stops)" },
  args: { ...configArg, ...logArgs },
  async run({ args }) {
    const path = findConfigPath(args.config);
    const config = loadConfig(path);
    const logger = loggerFromArgs(args, config.daemon.log_level);
    for (const e of Object.values({ ...config.vcenter, ...config.esxi })) {
      if (e.tls.mode === "insecure") logger.warn("TLS verification is off for this endpoint (insecure = true)", { endpoint: e.name, url: e.url });
    }
    const daemon = new Daemon(path, logger, { plan: planServices });
    await daemon.start(config);
    await new Promise<void>((resolve) => {
      process.on("SIGHUP", () => {
        logger.info("SIGHUP: reloading configuration");
        void daemon.reload();
      });
      const shutdown = (signal: string) => {
        logger.info("stopping", { signal });
        void daemon.stop().then(resolve);
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
    logger.info("stopped");
  },
});
