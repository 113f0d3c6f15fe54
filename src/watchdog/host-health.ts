// Each watched host's health, from its probe answers through the hysteresis rule: a host is
// down after `misses_to_fail` missed probes and up again after `successes_to_recover` answers.
import type { WatchdogConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { type HealthCounter, initialHealth, observeProbe } from "./hysteresis.ts";
import type { RoundResult } from "./round.ts";

export class HostHealthTracker {
  readonly #cfg: WatchdogConfig;
  readonly #log: Logger;
  /** Called when a host comes back up: alerts about it may be sent again. */
  readonly #onRecovered: () => void;
  readonly #health: Record<string, HealthCounter> = {};

  constructor(cfg: WatchdogConfig, log: Logger, onRecovered: () => void) {
    this.#cfg = cfg;
    this.#log = log;
    this.#onRecovered = onRecovered;
    for (const h of cfg.hosts) this.#health[h] = initialHealth();
  }

  observe(round: RoundResult): void {
    const rule = { missesToFail: this.#cfg.misses_to_fail, successesToRecover: this.#cfg.successes_to_recover };
    for (const h of this.#cfg.hosts) {
      const before = this.#health[h] ?? initialHealth();
      const after = observeProbe(before, round.answered[h] ?? false, rule);
      this.#health[h] = after;
      if (before.health !== after.health && !(before.health === "unknown" && after.health === "up")) {
        const down = after.health === "down";
        this.#log[down ? "warn" : "info"](down ? `host ${h} is down (${after.misses} probes missed)` : `host ${h} is up again (${after.successes} probes answered)`, { host: h });
        if (!down) this.#onRecovered();
      }
    }
  }

  get(host: string): HealthCounter | undefined {
    return this.#health[host];
  }

  isUp(host: string): boolean {
    return this.#health[host]?.health === "up";
  }

  healthyHosts(): string[] {
    return this.#cfg.hosts.filter((h) => this.isUp(h));
  }

  snapshot(): Record<string, HealthCounter> {
    return structuredClone(this.#health);
  }
}
