// Every state-changing action on a VM (power, boot device) runs through one queue per BMC:
// actions run one at a time in arrival order, so `bootdev pxe` followed at once by
// `power on` boots from PXE. A client gets its completion code within `ackMs`: if the
// action fails sooner, the failure's code; if it is still running, success (the action
// was accepted and continues; its outcome shows in Get Chassis Status). A retransmitted
// or repeated request for the action in progress joins it instead of running it twice.
import type { Logger } from "../log/logger.ts";
import { completionCodeFor } from "./error-codes.ts";

export interface ActionOutcome {
  key: string;
  ok: boolean;
  error?: unknown;
}

export interface ActionQueueOptions {
  /** How long a request waits for its action before answering "accepted". Default 500 ms. */
  ackMs?: number;
  logger: Logger;
  /** Told when an action ends, after the client may already have had its answer. */
  onOutcome?: (outcome: ActionOutcome) => void;
}

export class BmcActionQueue {
  readonly ackMs: number;
  #tail: Promise<void> = Promise.resolve();
  #last?: { key: string; job: Promise<void>; settled: boolean };
  #running = 0;
  #opts: ActionQueueOptions;
  readonly #listeners: Array<(o: ActionOutcome) => void> = [];

  constructor(opts: ActionQueueOptions) {
    this.#opts = opts;
    this.ackMs = opts.ackMs ?? 500;
  }

  /** Also tell `fn` when an action ends (a second front end sharing this queue). */
  addOutcomeListener(fn: (o: ActionOutcome) => void): void {
    this.#listeners.push(fn);
  }

  #tell(o: ActionOutcome): void {
    this.#opts.onOutcome?.(o);
    for (const l of this.#listeners) l(o);
  }

  /** The key of the most recently queued action while it has not finished. */
  get busyWith(): string | undefined {
    return this.#last && !this.#last.settled ? this.#last.key : undefined;
  }

  /** Actions queued or running. */
  get pending(): number {
    return this.#running;
  }

  /**
   * Queue `fn` under `key`; resolves when it has run. If the most recently queued action has
   * the same key and has not finished, it is joined instead (a retransmission or a client
   * retry must not power-cycle a VM twice); anything queued in between breaks the join, so
   * on, off, on still ends powered on.
   */
  run(key: string, fn: () => Promise<void>): Promise<void> {
    if (this.#last && this.#last.key === key && !this.#last.settled) return this.#last.job;
    this.#running++;
    const entry: { key: string; job: Promise<void>; settled: boolean } = { key, job: Promise.resolve(), settled: false };
    entry.job = this.#tail.then(fn).finally(() => {
      this.#running--;
      entry.settled = true;
    });
    this.#last = entry;
    this.#tail = entry.job.then(
      (): void => undefined,
      (): void => undefined,
    );
    entry.job.then(
      () => this.#tell({ key, ok: true }),
      (error: unknown) => {
        this.#opts.logger.warn("BMC action failed", { action: key, err: error });
        this.#tell({ key, ok: false, error });
      },
    );
    return entry.job;
  }

  /** Queue the action and answer with a completion code within the ack window. */
  async submit(key: string, fn: () => Promise<void>): Promise<number> {
    const job = this.run(key, fn);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ack = new Promise<"accepted">((resolve) => {
      timer = setTimeout(() => resolve("accepted"), this.ackMs);
    });
    try {
      await Promise.race([job, ack]);
      return 0;
    } catch (err) {
      return completionCodeFor(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when everything queued so far has run (tests, shutdown). */
  async drain(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail);
  }
}
