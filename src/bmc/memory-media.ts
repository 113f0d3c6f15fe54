// VirtualMedia in memory, for tests and the demo: the same contract as the vSphere one seen
// from outside. insert() really fetches the image (same URL checks, deadlines, credentials and
// coded errors: media-source.ts), counts and hashes it, and keeps nothing but the digest.
import { createHash } from "node:crypto";
import { MediaBusyError, MediaForeignError, MediaSlotError } from "../errors.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { openImage, parseImageUrl, redactUrl } from "./media-source.ts";
import { TransferProgress } from "./media-transfer.ts";
import type { InsertOptions, MediaSlot, MediaState, VirtualMedia } from "./virtual-media.ts";

export interface MemoryMediaOptions {
  /** Default ["cd"]. */
  slots?: MediaSlot[];
  logger?: Logger;
  /** Verify the image server's certificate. Default false. */
  verifyTls?: boolean;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

interface Slot {
  state: MediaState;
  busy: boolean;
  sha256?: string;
  /** Media "someone else" put into the device (test hook): inserts are refused. */
  foreign?: string;
}

export class MemoryMedia implements VirtualMedia {
  readonly #o: MemoryMediaOptions;
  readonly #slots = new Map<MediaSlot, Slot>();
  readonly #logger: Logger;
  readonly #aborts = new Set<AbortController>();

  constructor(o: MemoryMediaOptions = {}) {
    this.#o = o;
    this.#logger = (o.logger ?? silentLogger).child("media");
    for (const s of o.slots ?? ["cd"]) this.#slots.set(s, { state: { slot: s, inserted: false, writeProtected: true, connected: false }, busy: false });
  }

  slots(): MediaSlot[] {
    return [...this.#slots.keys()];
  }

  #slot(slot: MediaSlot): Slot {
    const s = this.#slots.get(slot);
    if (!s) throw new MediaSlotError(`this machine has no ${slot} slot (it has ${this.slots().join(", ") || "none"})`);
    return s;
  }

  state(slot: MediaSlot): MediaState {
    const s = this.#slot(slot).state;
    return { ...s, ...(s.transfer ? { transfer: { ...s.transfer } } : {}) };
  }

  async insert(slot: MediaSlot, url: string, options: InsertOptions = {}): Promise<void> {
    const s = this.#slot(slot);
    parseImageUrl(url);
    const image = redactUrl(url);
    if (s.foreign) throw new MediaForeignError(`the ${slot} device holds media esxkit did not insert (${s.foreign}); eject it in vSphere first`);
    if (s.busy) throw new MediaBusyError(`the ${slot} slot is busy with another insert or eject`);
    if (s.state.inserted) {
      if (s.state.image === image && s.state.connected) return;
      throw new MediaBusyError(`the ${slot} slot already holds ${s.state.image}; eject it first`);
    }
    s.busy = true;
    const abort = new AbortController();
    this.#aborts.add(abort);
    const signal = options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal;
    s.state = { slot, inserted: true, image, writeProtected: options.writeProtected ?? true, connected: false };
    try {
      const src = await openImage(url, { ...options, verifyTls: this.#o.verifyTls, connectTimeoutMs: this.#o.connectTimeoutMs, idleTimeoutMs: this.#o.idleTimeoutMs, signal });
      const progress = new TransferProgress(this.#logger.child("media", { slot }), src.total);
      s.state.transfer = progress.info;
      const hash = createHash("sha256");
      try {
        for await (const chunk of progress.count(src.body)) hash.update(chunk);
      } catch (err) {
        progress.failed(err);
        throw err;
      }
      progress.done();
      s.sha256 = hash.digest("hex");
      s.state.connected = true;
    } catch (err) {
      const transfer = s.state.transfer;
      s.state = { slot, inserted: false, writeProtected: true, connected: false, ...(transfer ? { transfer } : {}) };
      throw err;
    } finally {
      s.busy = false;
      this.#aborts.delete(abort);
    }
  }

  async eject(slot: MediaSlot): Promise<void> {
    const s = this.#slot(slot);
    if (s.busy) throw new MediaBusyError(`the ${slot} slot is busy with an insert; try again when it finished`);
    s.state = { slot, inserted: false, writeProtected: true, connected: false };
    s.sha256 = undefined;
  }

  // ------------------------------------------------------------------ test hooks

  /** sha256 (hex) of the image inserted in `slot`, once its transfer finished. */
  imageSha256(slot: MediaSlot): string | undefined {
    return this.#slots.get(slot)?.sha256;
  }

  /** Pretend someone put media into the device outside esxkit (undefined clears it). */
  setForeign(slot: MediaSlot, description: string | undefined): void {
    this.#slot(slot).foreign = description;
  }

  /** Abort running transfers. */
  async close(): Promise<void> {
    for (const a of this.#aborts) a.abort(new Error("media closed"));
  }
}

export function createMemoryMedia(o: MemoryMediaOptions = {}): MemoryMedia {
  return new MemoryMedia(o);
}
