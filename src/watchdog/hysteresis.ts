// Per-host health with hysteresis: N consecutive missed probes declare a host down,
// M consecutive answered probes declare a down host healthy again. A single answer or miss
// in between resets the opposite counter, so a flapping host never changes state.

export type HostHealth = "unknown" | "up" | "down";

export interface HealthCounter {
  health: HostHealth;
  /** Consecutive misses (reset by an answer). */
  misses: number;
  /** Consecutive answers (reset by a miss). */
  successes: number;
}

export interface HysteresisRule {
  missesToFail: number;
  successesToRecover: number;
}

export const initialHealth = (): HealthCounter => ({ health: "unknown", misses: 0, successes: 0 });

/**
 * The counter after one probe. A host never seen before ("unknown") is up at its first answer:
 * there is no failure to recover from, and demanding M answers would only delay protection.
 */
export function observeProbe(c: HealthCounter, answered: boolean, rule: HysteresisRule): HealthCounter {
  const misses = answered ? 0 : c.misses + 1;
  const successes = answered ? c.successes + 1 : 0;
  let health = c.health;
  if (answered) {
    if (health === "unknown" || (health === "down" && successes >= rule.successesToRecover)) health = "up";
  } else if (health !== "down" && misses >= rule.missesToFail) {
    health = "down";
  }
  return { health, misses, successes };
}
