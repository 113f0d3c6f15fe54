// Limits on how often the watchdog may act: a cooldown after each failover and a maximum
// number of failovers per sliding hour. Pure functions over the persisted history.

export const HOUR_MS = 3_600_000;

export interface SafetyLimits {
  cooldown_s: number;
  max_failovers_per_hour: number;
}

export type SafetyVerdict =
  | { allowed: true }
  | { allowed: false; reason: "cooldown" | "rate_limit"; /** ms since epoch when it would be allowed again */ until: number };

/** `history` holds the start times (ms since epoch) of past failovers, in any order. */
export function checkSafety(history: readonly number[], now: number, limits: SafetyLimits): SafetyVerdict {
  const last = history.length ? Math.max(...history) : undefined;
  if (last !== undefined && now - last < limits.cooldown_s * 1000) {
    return { allowed: false, reason: "cooldown", until: last + limits.cooldown_s * 1000 };
  }
  const recent = history.filter((t) => now - t < HOUR_MS).sort((a, b) => a - b);
  if (recent.length >= limits.max_failovers_per_hour) {
    // The oldest failover in the window has to age out before another is allowed.
    const oldest = recent[recent.length - limits.max_failovers_per_hour] as number;
    return { allowed: false, reason: "rate_limit", until: oldest + HOUR_MS };
  }
  return { allowed: true };
}

/** History trimmed to what checkSafety can still need (the last hour, and the latest entry). */
export function pruneHistory(history: readonly number[], now: number): number[] {
  const sorted = [...history].sort((a, b) => a - b);
  const kept = sorted.filter((t) => now - t < HOUR_MS);
  const last = sorted[sorted.length - 1];
  if (last !== undefined && !kept.includes(last)) kept.push(last);
  return kept;
}
