// After a fence, another watched host going silent is a warning sign: the power off may have hit
// the wrong machine (a BMC cabled or addressed as another host's). For a while after each fence,
// every host that was up then and goes down raises a critical alarm naming both hosts.
import type { WatchdogEvent } from "./notify.ts";

export interface AftermathDeps {
  now: () => number;
  alertOnce: (key: string, ev: WatchdogEvent) => void;
  /** How long after a fence a silent host is suspicious. */
  windowMs: number;
}

interface Fence {
  host: string;
  at: number;
  /** Hosts that answered when the fence was confirmed. */
  upThen: Set<string>;
}

export class FenceAftermath {
  readonly #d: AftermathDeps;
  #fences: Fence[] = [];

  constructor(d: AftermathDeps) {
    this.#d = d;
  }

  /** `host` was just fenced; `up` answered their probes at that moment. */
  fenced(host: string, up: readonly string[]): void {
    this.#fences.push({ host, at: this.#d.now(), upThen: new Set(up.filter((h) => h !== host)) });
  }

  /** Call every round with the hosts that are down now. */
  observe(down: readonly string[]): void {
    const now = this.#d.now();
    this.#fences = this.#fences.filter((f) => now - f.at < this.#d.windowMs);
    for (const f of this.#fences) {
      for (const h of down) {
        if (!f.upThen.has(h)) continue;
        f.upThen.delete(h);
        const after = Math.round((now - f.at) / 1000);
        this.#d.alertOnce(`silent_after_fence:${f.host}:${h}:${f.at}`, {
          kind: "silent_after_fence",
          severity: "critical",
          message: `${h} went silent ${after} s after esxkit fenced ${f.host}: check that ${f.host}'s bmc entry is not ${h}'s BMC, and power ${h} back on if the fence hit it`,
          fields: { host: h, fenced: f.host, after_s: after },
        });
      }
    }
  }
}
