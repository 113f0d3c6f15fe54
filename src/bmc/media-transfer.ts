// Progress of one image transfer, shared by every machine waiting for it: bytes counted as
// they pass, logged at sensible intervals (every 10 % of a known size, else every 64 MiB, and
// at most every 5 s), and the state/error that status output and Redfish show.
import { errorCode } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { MediaTransfer } from "./virtual-media.ts";

const LOG_EVERY_BYTES = 64 * 1024 * 1024;
const LOG_MIN_INTERVAL_MS = 5_000;
const GC_EVERY_BYTES = 64 * 1024 * 1024;

export class TransferProgress {
  readonly info: MediaTransfer;
  readonly #logger: Logger;
  #nextLogAt: number;
  #lastLogTime = 0;

  constructor(logger: Logger, total: number | undefined, now = Date.now()) {
    this.info = { state: "downloading", bytes: 0, startedAt: now, ...(total !== undefined ? { total } : {}) };
    this.#logger = logger;
    this.#nextLogAt = this.#step();
  }

  #step(): number {
    const t = this.info.total;
    return this.info.bytes + (t ? Math.max(Math.ceil(t / 10), 1) : LOG_EVERY_BYTES);
  }

  /** The size, once the source said (a shared transfer exists before its response arrived). */
  setTotal(total: number | undefined): void {
    if (total === undefined) return;
    this.info.total = total;
    this.#nextLogAt = this.#step();
  }

  /** Count a chunk on its way through. */
  add(n: number): void {
    this.info.bytes += n;
    if (this.info.bytes < this.#nextLogAt) return;
    this.#nextLogAt = this.#step();
    const now = Date.now();
    if (now - this.#lastLogTime < LOG_MIN_INTERVAL_MS) return;
    this.#lastLogTime = now;
    const secs = Math.max((now - this.info.startedAt) / 1000, 0.001);
    this.#logger.info("image transfer progress", {
      bytes: this.info.bytes,
      ...(this.info.total ? { total: this.info.total, percent: Math.floor((this.info.bytes * 100) / this.info.total) } : {}),
      mbPerSec: Number((this.info.bytes / 1e6 / secs).toFixed(1)),
    });
  }

  /**
   * Wrap a body so every chunk is counted. Every 64 MiB it asks the runtime for a
   * collection: the chunks passed on are garbage at once, and left to itself the collector lets
   * tens of MB of them pile up before it runs.
   */
  async *count(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let sinceGc = 0;
    for await (const chunk of body) {
      this.add(chunk.byteLength);
      sinceGc += chunk.byteLength;
      if (sinceGc >= GC_EVERY_BYTES) {
        sinceGc = 0;
        globalThis.Bun?.gc(true);
      }
      yield chunk;
    }
  }

  done(reused = false): void {
    this.info.state = "done";
    this.info.finishedAt = Date.now();
    if (reused) this.info.reused = true;
    const secs = Math.max((this.info.finishedAt - this.info.startedAt) / 1000, 0.001);
    this.#logger.info(reused ? "image already on the datastore; not transferred again" : "image transferred", {
      bytes: this.info.bytes,
      seconds: Number(secs.toFixed(1)),
      ...(reused ? {} : { mbPerSec: Number((this.info.bytes / 1e6 / secs).toFixed(1)) }),
    });
  }

  failed(err: unknown): void {
    this.info.state = "failed";
    this.info.finishedAt = Date.now();
    this.info.error = err instanceof Error ? err.message : String(err);
    this.#logger.warn("image transfer failed", { bytes: this.info.bytes, code: errorCode(err), error: this.info.error });
  }
}

/** A finished transfer of nothing: the image was already there. */
export function reusedTransfer(logger: Logger, bytes: number): MediaTransfer {
  const p = new TransferProgress(logger, bytes);
  p.info.bytes = 0;
  p.done(true);
  return p.info;
}
