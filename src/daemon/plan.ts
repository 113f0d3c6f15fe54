// Turns a config into the services `serve` runs. Each subsystem contributes its factory here.
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { fingerprints, type PlannedService } from "./reconcile.ts";

export function planServices(config: Config, _logger: Logger): PlannedService[] {
  const fp = fingerprints(config);
  const plan: PlannedService[] = [];
  void fp;
  return plan;
}
