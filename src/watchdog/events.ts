// The watchdog's outgoing events: every one goes to the notifier (log, journal, webhook,
// command); alerts keyed by cause are sent once until the cause clears.
import type { Notifier, WatchdogEvent } from "./notify.ts";

export class WatchdogEvents {
  readonly #notifier: Notifier;
  readonly #alerted = new Set<string>();

  constructor(notifier: Notifier) {
    this.#notifier = notifier;
  }

  emit(ev: WatchdogEvent): void {
    this.#notifier.emit({ ...ev, fields: { ...ev.fields } });
  }

  /** Emit once until `clearAlert(key)` or `clearAlerts()`. */
  alertOnce(key: string, ev: WatchdogEvent): void {
    if (this.#alerted.has(key)) return;
    this.#alerted.add(key);
    this.emit(ev);
  }

  clearAlert(key: string): void {
    this.#alerted.delete(key);
  }

  clearAlerts(): void {
    this.#alerted.clear();
  }

  flush(): Promise<void> {
    return this.#notifier.flush();
  }
}
