import { defineCommand } from "citty";
import { runServe } from "../daemon/serve.ts";
import { loadConfig } from "../config/load.ts";
import { configArg, findConfigPath, logArgs, loggerFromArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "serve", examples: ["esxkit serve -c /etc/esxkit/config.toml", "ESXKIT_CONFIG=./config.toml esxkit serve --log-level debug"], description: "run every configured BMC, SLP entry and watchdog (SIGHUP reloads, SIGTERM stops)" },
  args: { ...configArg, ...logArgs },
  async run({ args }) {
    const path = findConfigPath(args.config);
    // Validate first so a bad config is reported before any logger output.
    const level = loadConfig(path, { checkStateDir: true }).daemon.log_level;
    await runServe(path, loggerFromArgs(args, level));
  },
});
