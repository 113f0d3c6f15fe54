// The watchdog's pause as the service sees it: read from the pause files (pause.ts) at start
// and every round — so a pause written by another process or an expired TTL is noticed — and
// set or lifted through pause()/resume().
import type { WatchdogEvent } from "./notify.ts";
import { clearPause, type PauseInfo, readPause, writePause } from "./pause.ts";

export interface PauseControlDeps {
  stateDir: string;
  name: string;
  now: () => number;
  emit: (ev: WatchdogEvent) => void;
}

export function pausedUntilIso(info: PauseInfo): string | undefined {
  return info.until === undefined ? undefined : new Date(info.until).toISOString();
}

export class PauseControl {
  readonly #d: PauseControlDeps;
  #info: PauseInfo = { paused: false };

  constructor(d: PauseControlDeps) {
    this.#d = d;
  }

  get info(): PauseInfo {
    return this.#info;
  }

  /** Re-read the pause files; a TTL that ran out is announced. */
  refresh(): void {
    this.#info = readPause(this.#d.stateDir, this.#d.name, this.#d.now(), (file) => this.#d.emit({ kind: "resumed", severity: "info", message: `the pause in ${file} expired` }));
  }

  /** Re-read the pause files without announcing expired ones (at start and after resume()). */
  load(): void {
    this.#info = readPause(this.#d.stateDir, this.#d.name, this.#d.now());
  }

  pause(ttlMs?: number, reason?: string): PauseInfo {
    this.#info = writePause(this.#d.stateDir, this.#d.name, this.#d.now(), ttlMs, reason);
    this.#d.emit({ kind: "paused", severity: "info", message: ttlMs === undefined ? "paused until resumed" : `paused for ${Math.round(ttlMs / 1000)} s`, fields: { until: pausedUntilIso(this.#info), reason } });
    return this.#info;
  }

  resume(): PauseInfo {
    clearPause(this.#d.stateDir, this.#d.name);
    this.load();
    this.#d.emit({ kind: "resumed", severity: "info", message: this.#info.paused ? `resumed, but still paused by ${this.#info.file}` : "resumed" });
    return this.#info;
  }
}
