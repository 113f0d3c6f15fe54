// Pausing the watchdog for planned maintenance: by the control API (pause(ttl) / resume())
// or by hand, with a file in <state_dir>/watchdog/:
//   pause                 pauses every watchdog
//   <name>.pause          pauses one watchdog
// An empty file pauses until it is removed. A JSON file {"until": "<ISO time>", "reason": "…"}
// pauses until that time; the watchdog removes an expired file. A file that cannot be read as
// either still pauses (a pause that fails to parse must not turn into a failover).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileSafe, removeFile, watchdogDir, writeJsonDurably } from "./store.ts";

export interface PauseInfo {
  paused: boolean;
  /** ms since epoch; undefined = until resumed. */
  until?: number;
  reason?: string;
  /** The file that holds the pause. */
  file?: string;
  /** The file exists but its content is not understood. */
  malformed?: boolean;
}

export function globalPauseFile(stateDir: string): string {
  return join(watchdogDir(stateDir), "pause");
}

export function pauseFile(stateDir: string, name: string): string {
  return join(watchdogDir(stateDir), `${fileSafe(name)}.pause`);
}

function readPauseFile(path: string, now: number): PauseInfo | "expired" | undefined {
  let text: string;
  try {
    if (!statSync(path).isFile()) return { paused: true, file: path, malformed: true };
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { paused: true, file: path, malformed: true };
  }
  if (text === "") return { paused: true, file: path };
  try {
    const j = JSON.parse(text) as { until?: unknown; reason?: unknown };
    const reason = typeof j.reason === "string" ? j.reason : undefined;
    if (j.until === undefined || j.until === null) return { paused: true, file: path, reason };
    const until = typeof j.until === "string" || typeof j.until === "number" ? new Date(j.until).getTime() : Number.NaN;
    if (Number.isNaN(until)) return { paused: true, file: path, reason, malformed: true };
    if (until <= now) return "expired";
    return { paused: true, until, reason, file: path };
  } catch {
    return { paused: true, file: path, malformed: true };
  }
}

/**
 * The pause in force for watchdog `name`, removing expired pause files on the way
 * (`onExpired` is told about each). The per-watchdog file wins over the global one.
 */
export function readPause(stateDir: string, name: string, now: number, onExpired?: (file: string) => void): PauseInfo {
  for (const file of [pauseFile(stateDir, name), globalPauseFile(stateDir)]) {
    const p = readPauseFile(file, now);
    if (p === "expired") {
      removeFile(file);
      onExpired?.(file);
      continue;
    }
    if (p) return p;
  }
  return { paused: false };
}

/** Pause one watchdog (or all, with name undefined) for `ttlMs` (undefined: until resumed). */
export function writePause(stateDir: string, name: string | undefined, now: number, ttlMs?: number, reason?: string): PauseInfo {
  const file = name === undefined ? globalPauseFile(stateDir) : pauseFile(stateDir, name);
  const until = ttlMs === undefined ? undefined : now + ttlMs;
  writeJsonDurably(file, { until: until === undefined ? null : new Date(until).toISOString(), reason: reason ?? null, since: new Date(now).toISOString() });
  return { paused: true, until, reason, file };
}

/** Remove the pause file of one watchdog (or the global one, with name undefined). */
export function clearPause(stateDir: string, name: string | undefined): void {
  removeFile(name === undefined ? globalPauseFile(stateDir) : pauseFile(stateDir, name));
}

/** "2h", "30m", "90s", "1h30m", "1500ms" → ms. Throws with the offending text. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let matched = 0;
  const t = text.trim();
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (t === "" || matched !== t.length || total <= 0) throw new Error(`expected a duration like "2h", "30m" or "1h30m", got ${JSON.stringify(text)}`);
  return Math.round(total);
}
