// Telling people what the watchdog saw and did: a structured log line and an audit journal
// record for every event, and for alerts and failovers an optional webhook (HTTP POST of the
// event as JSON) and an optional command hook (argv; the event JSON on stdin). Hooks run with
// deadlines and never delay the watchdog: their failures are logged, not retried.
import type { Logger } from "../log/logger.ts";
import { appendJournal } from "./journal.ts";

export const WEBHOOK_TIMEOUT_MS = 5000;
export const COMMAND_TIMEOUT_MS = 10_000;

/** "critical": a safety guard refuses to act (a BMC that is not its host's, split brain). */
export type Severity = "info" | "warning" | "error" | "critical";

export interface WatchdogEvent {
  kind: string;
  severity: Severity;
  message: string;
  /** Send through the webhook and command hook too (default: warnings, errors, failovers). */
  notify?: boolean;
  fields?: Record<string, unknown>;
}

/** Kinds that reach the hooks even at severity info. */
const NOTIFY_KINDS = new Set(["fenced", "failover_succeeded", "stale_unregistered", "paused", "resumed", "recovered"]);

export interface NotifierOptions {
  watchdog: string;
  vm: string;
  dryRun: boolean;
  logger: Logger;
  journal: string;
  webhook?: string;
  command?: string[];
  now?: () => number;
  /** Extra sink (PostEvent queue, tests). */
  onEvent?: (record: Record<string, unknown>, ev: WatchdogEvent) => void;
}

export class Notifier {
  readonly #o: NotifierOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(opts: NotifierOptions) {
    this.#o = opts;
  }

  /** Log, journal (fsync'd before returning) and, where due, start the hooks. */
  emit(ev: WatchdogEvent): Record<string, unknown> {
    const o = this.#o;
    const record: Record<string, unknown> = {
      time: new Date((o.now ?? Date.now)()).toISOString(),
      watchdog: o.watchdog,
      vm: o.vm,
      kind: ev.kind,
      severity: ev.severity,
      message: ev.message,
      ...(o.dryRun ? { dry_run: true } : {}),
      ...ev.fields,
    };
    const { time: _t, message, ...logFields } = record;
    const level = ev.severity === "error" || ev.severity === "critical" ? "error" : ev.severity === "warning" ? "warn" : "info";
    o.logger[level](message as string, logFields);
    try {
      appendJournal(o.journal, record);
    } catch (err) {
      o.logger.error("cannot write the audit journal", { file: o.journal, error: err });
    }
    o.onEvent?.(record, ev);
    if (ev.notify ?? (ev.severity !== "info" || NOTIFY_KINDS.has(ev.kind))) this.#hooks(record);
    return record;
  }

  /** Wait (bounded by the hooks' own deadlines) for hooks still running. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #hooks(record: Record<string, unknown>): void {
    const body = JSON.stringify(record);
    if (this.#o.webhook) this.#track(this.#postWebhook(this.#o.webhook, body));
    if (this.#o.command?.length) this.#track(this.#runCommand(this.#o.command, body));
  }

  async #postWebhook(url: string, body: string): Promise<void> {
    // The URL may carry a token in its path or query: log its origin only.
    const origin = safeOrigin(url);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        redirect: "error",
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) this.#o.logger.warn("webhook answered with an error status", { webhook: origin, status: res.status });
    } catch (err) {
      this.#o.logger.warn("webhook failed", { webhook: origin, error: err instanceof Error && err.name === "TimeoutError" ? `no answer within ${WEBHOOK_TIMEOUT_MS} ms` : err });
    }
  }

  async #runCommand(argv: string[], body: string): Promise<void> {
    let proc: ReturnType<typeof Bun.spawn> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      proc = Bun.spawn(argv, { stdin: new Blob([body]), stdout: "ignore", stderr: "pipe" });
      const p = proc;
      timer = setTimeout(() => {
        this.#o.logger.warn("command hook exceeded its deadline; killing it", { command: argv[0], timeout_ms: COMMAND_TIMEOUT_MS });
        p.kill("SIGKILL");
      }, COMMAND_TIMEOUT_MS);
      const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr as ReadableStream<Uint8Array>).text()]);
      if (code !== 0) this.#o.logger.warn("command hook failed", { command: argv[0], exit: code, stderr: stderr.slice(0, 500) });
    } catch (err) {
      this.#o.logger.warn("command hook could not be started", { command: argv[0], error: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}
