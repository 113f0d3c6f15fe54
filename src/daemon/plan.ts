// Turns a config into the services `serve` runs, and owns what they share (one vSphere
// session per vCenter). Each subsystem contributes its factory here.
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { fingerprints, type PlannedService } from "./reconcile.ts";

export interface Planner {
  plan(config: Config, logger: Logger): PlannedService[];
  close(): Promise<void>;
}

export function createPlanner(_rootLogger: Logger): Planner {
  return {
    plan(config) {
      const fp = fingerprints(config);
      const plan: PlannedService[] = [];
      void fp;
      return plan;
    },
    async close() {},
  };
}
