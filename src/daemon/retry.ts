// Start attempts of one service that did not come up: a bind on an address that appears
// later (a VIP, DHCP) or a port another process holds for a while. Retried with backoff
// until it works; the log gets a line when the error changes, not one per attempt.

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_START_RETRY: RetryPolicy = { initialMs: 500, maxMs: 15_000 };

/** What `status` shows about a service that is not running. */
export interface DownInfo {
  error: string;
  /** When the service first failed to start (ISO). */
  since: string;
  attempts: number;
  /** When the next attempt runs (ISO). */
  next_attempt_at: string;
}

export class StartRetry {
  #delay: number;
  #timer?: ReturnType<typeof setTimeout>;
  #since = new Date().toISOString();
  #attempts = 0;
  #error = "";
  #nextAt = 0;
  #cancelled = false;

  constructor(
    private readonly policy: RetryPolicy,
    /** Called for the first failure and whenever the error text changes. */
    private readonly onNewError: (error: string, attempts: number) => void,
  ) {
    this.#delay = policy.initialMs;
  }

  /** Records a failed attempt and schedules `attempt` after the current backoff. */
  failed(error: string, attempt: () => void): void {
    if (this.#cancelled) return;
    this.#attempts++;
    if (error !== this.#error) this.onNewError(error, this.#attempts);
    this.#error = error;
    this.#nextAt = Date.now() + this.#delay;
    this.#timer = setTimeout(attempt, this.#delay);
    this.#delay = Math.min(this.#delay * 2, this.policy.maxMs);
  }

  cancel(): void {
    this.#cancelled = true;
    clearTimeout(this.#timer);
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  get attempts(): number {
    return this.#attempts;
  }

  info(): DownInfo {
    return { error: this.#error, since: this.#since, attempts: this.#attempts, next_attempt_at: new Date(this.#nextAt).toISOString() };
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
