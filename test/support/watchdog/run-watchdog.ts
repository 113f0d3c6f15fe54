// Runs one watchdog service in its own process, so a test can SIGKILL it mid-failover.
// Usage: bun run-watchdog.ts SPEC.json   SPEC = {cfg: WatchdogConfig, esxi: {...}, stateDir}
// Logs JSON lines on stdout; SIGTERM stops the service cleanly.
import { readFileSync } from "node:fs";
import type { EsxiConfig, WatchdogConfig } from "../../../src/config/types.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { createWatchdogService } from "../../../src/watchdog/service.ts";

const specFile = process.argv[2];
if (!specFile) throw new Error("usage: run-watchdog.ts SPEC.json");
const spec = JSON.parse(readFileSync(specFile, "utf8")) as { cfg: WatchdogConfig; esxi: Record<string, EsxiConfig>; stateDir: string };
const logger = createLogger({ level: "debug", format: "json", journal: false });
const service = createWatchdogService(spec.cfg, { esxi: spec.esxi, logger, stateDir: spec.stateDir });
await service.start();
process.on("SIGTERM", () => {
  void service.stop().then(() => process.exit(0));
});
