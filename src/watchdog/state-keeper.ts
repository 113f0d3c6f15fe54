// The watchdog's persisted state (persist.ts) and its transitions: each one is saved, counted
// in the metrics, and announced — as an alert when the new state needs a human.
import type { Logger } from "../log/logger.ts";
import type { MetricsRegistry } from "../log/metrics.ts";
import type { WatchdogEvent } from "./notify.ts";
import { loadState, type PersistedState, saveState } from "./persist.ts";
import { ALERT_STATES, type Decision, type HeldReason, WATCHDOG_STATES } from "./state-machine.ts";

export interface StateKeeperDeps {
  name: string;
  stateDir: string;
  log: Logger;
  metrics: MetricsRegistry;
  now: () => number;
  emit: (ev: WatchdogEvent) => void;
  /** The host the VM runs on, as far as esxkit knows (for the events). */
  vmHost: () => string | undefined;
  /** A transition into "held" because of dry_run: the plan that was not carried out is worth showing. */
  onDryRunHeld: () => void;
}

export class StateKeeper {
  readonly st: PersistedState;
  /** The last decision taken, for the status. */
  decision: Decision | undefined;
  readonly #d: StateKeeperDeps;
  #lastHeld: HeldReason | undefined;

  constructor(d: StateKeeperDeps) {
    this.#d = d;
    this.st = loadState(d.stateDir, d.name, d.now());
  }

  /** Record `d` as the current decision and move to its state. */
  decided(d: Decision): void {
    this.decision = d;
    this.transition(d);
  }

  transition(d: Decision): void {
    const from = this.st.state;
    const heldChanged = d.state === "held" && this.#lastHeld !== d.held;
    this.#lastHeld = d.state === "held" ? d.held : undefined;
    if (from === d.state && !heldChanged) return;
    this.st.state = d.state;
    this.st.lastTransition = new Date(this.#d.now()).toISOString();
    this.persist();
    this.setStateMetric();
    this.#d.metrics.counter("esxkit_watchdog_transitions_total", "Watchdog state transitions").inc({ watchdog: this.#d.name, from, to: d.state });
    const alert = ALERT_STATES.has(d.state);
    const severity = !alert ? "info" : d.state === "split_brain" ? "critical" : d.state === "fence_failed" || d.state === "failover_failed" ? "error" : "warning";
    this.#d.emit({ kind: alert ? "alert" : "transition", severity, message: `${from} → ${d.state}: ${d.reason}`, fields: { from, to: d.state, held: d.held, host: this.#d.vmHost() } });
    if (d.held === "dry_run") this.#d.onDryRunHeld();
  }

  setStateMetric(): void {
    const g = this.#d.metrics.gauge("esxkit_watchdog_state", "1 for the watchdog's current state, 0 for the others");
    for (const s of WATCHDOG_STATES) g.set({ watchdog: this.#d.name, state: s }, s === this.st.state ? 1 : 0);
  }

  persist(): void {
    try {
      saveState(this.#d.stateDir, this.#d.name, this.st);
    } catch (err) {
      this.#d.log.error("cannot persist the watchdog state", { error: err });
    }
  }
}
