// Split brain — the protected VM powered on on more than one host — is a state of its own, shown
// by status, /healthz, the metrics and the journal until it is resolved. Two observers report
// it: the learner (several powered-on copies) and the stale-copy cleanup (a fenced host or a
// failed target came back with its copy running). Each report is keyed by its source, so one
// source clearing does not hide another.
import type { MetricsRegistry } from "../log/metrics.ts";
import type { WatchdogEvent } from "./notify.ts";

export interface SplitBrain {
  /** Every host seen running the VM. */
  hosts: string[];
  since: string;
  message: string;
}

export interface SplitBrainDeps {
  watchdog: string;
  metrics: MetricsRegistry;
  emit: (ev: WatchdogEvent) => void;
  now: () => number;
}

export class SplitBrainTracker {
  readonly #d: SplitBrainDeps;
  readonly #sources = new Map<string, SplitBrain>();

  constructor(d: SplitBrainDeps) {
    this.#d = d;
    this.#gauge();
  }

  /** `source` sees the VM running on `hosts`. Journalled (critical) once per source until cleared. */
  report(source: string, hosts: readonly string[], message: string): void {
    const before = this.#sources.get(source);
    const sorted = [...new Set(hosts)].sort();
    this.#sources.set(source, { hosts: sorted, since: before?.since ?? new Date(this.#d.now()).toISOString(), message });
    if (!before || before.hosts.join() !== sorted.join()) {
      this.#d.emit({ kind: "split_brain", severity: "critical", message: `split brain: ${message}`, fields: { hosts: sorted, source } });
    }
    this.#gauge();
  }

  /** `source` sees at most one running copy again. */
  clear(source: string): void {
    const was = this.#sources.get(source);
    if (!was) return;
    this.#sources.delete(source);
    this.#d.emit({ kind: "split_brain_resolved", severity: "info", notify: true, message: `the VM no longer runs on ${was.hosts.join(" and ")} at once`, fields: { hosts: was.hosts, source } });
    this.#gauge();
  }

  /** The split brain as a whole, or undefined when none is seen. */
  get active(): SplitBrain | undefined {
    const all = [...this.#sources.values()];
    if (!all.length) return undefined;
    return {
      hosts: [...new Set(all.flatMap((s) => s.hosts))].sort(),
      since: all.map((s) => s.since).sort()[0] as string,
      message: all.map((s) => s.message).join("; "),
    };
  }

  #gauge(): void {
    this.#d.metrics.gauge("esxkit_watchdog_split_brain", "1 while the protected VM is seen powered on on more than one host").set({ watchdog: this.#d.watchdog }, this.#sources.size ? 1 : 0);
  }
}
