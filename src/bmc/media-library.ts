// The images esxkit keeps on datastores, shared by every BMC of one vCenter (one library per
// VsphereHub). An image lives at "[ds] esxkit-media/<key>.iso", key = sha256 of the URL (no
// credentials) and the server's validator (ETag, else Last-Modified + length): the same image
// into many VMs (an OpenShift install mounts one ISO on every node) is fetched and uploaded
// once per datastore, and concurrent inserts wait for that one transfer.
//
// Uploads go to "<key>.iso.part" and are moved to "<key>.iso" once complete, so a final name
// always holds a whole image (a crash or a failed download leaves at most a .part, deleted on
// failure and overwritten by the next try).
//
// Reference count: an image is in use while any VM's CD-ROM backing names it connected or
// start-connected. It is derived from the inventory when a VM ejects (so it survives restarts
// and sees the CLI's and the vSphere Client's changes), plus in-process pins for inserts between
// upload and reconfigure. The last eject deletes the file. Not guarded: a concurrent esxkit
// process (CLI next to the daemon) ejecting the last user while the other inserts.
import { createHash } from "node:crypto";
import { errorCode, MediaDatastoreError, MediaSourceError, MediaUrlError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { cdromView } from "../vsphere/cdrom.ts";
import {
  type DatacenterRef,
  datastorePath,
  deleteDatastoreFile,
  type DatastoreFile,
  makeDatastoreDirectory,
  moveDatastoreFile,
  statDatastoreFile,
  uploadDatastoreFile,
} from "../vsphere/datastore-files.ts";
import { retrieveProperties } from "../vsphere/properties.ts";
import { type ImageSourceOptions, openImage, redactUrl } from "./media-source.ts";
import { TransferProgress } from "./media-transfer.ts";
import type { MediaTransfer } from "./virtual-media.ts";

export const MEDIA_DIR = "esxkit-media";
const OURS = new RegExp(`^\\[[^\\]]+\\]\\s*${MEDIA_DIR}/[0-9a-f]{20}\\.iso$`);

/** Whether a CD-ROM backing file is one of esxkit's images. */
export function isLibraryFile(fileName: string): boolean {
  return OURS.test(fileName.trim());
}

export interface AcquireOptions extends ImageSourceOptions {
  /** Longest time the datastore may take no data, and wait to answer after the last byte. */
  datastoreIdleMs: number;
  taskTimeoutMs: number;
  logger: Logger;
  /** Told the (shared, live) transfer record as soon as there is one. */
  onTransfer?: (t: MediaTransfer) => void;
}

interface InFlight {
  progress: TransferProgress;
  done: Promise<DatastoreFile>;
}

const libraries = new WeakMap<object, MediaLibrary>();

/** The library of one vCenter (keyed by its hub or any object standing for it). */
export function libraryFor(owner: object): MediaLibrary {
  let lib = libraries.get(owner);
  if (!lib) libraries.set(owner, (lib = new MediaLibrary()));
  return lib;
}

export class MediaLibrary {
  readonly #inflight = new Map<string, InFlight>();
  readonly #pins = new Map<string, number>();
  readonly #locks = new Map<string, Promise<unknown>>();

  /** Run `fn` while no other library operation on the same file runs. */
  async #locked<T>(file: DatastoreFile, fn: () => Promise<T>): Promise<T> {
    const key = datastorePath(file);
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }

  pinned(file: DatastoreFile): number {
    return this.#pins.get(datastorePath(file)) ?? 0;
  }

  #pin(file: DatastoreFile): void {
    const k = datastorePath(file);
    this.#pins.set(k, (this.#pins.get(k) ?? 0) + 1);
  }

  /** The caller's reconfigure finished (or failed): the inventory now tells whether it uses the file. */
  unpin(file: DatastoreFile): void {
    const k = datastorePath(file);
    const n = (this.#pins.get(k) ?? 0) - 1;
    if (n > 0) this.#pins.set(k, n);
    else this.#pins.delete(k);
  }

  /**
   * Put the image on the datastore (or find it there) and pin it for the caller, who unpins
   * once its VM's CD-ROM names it. Rejects with MediaUrlError, MediaSourceError or MediaDatastoreError.
   */
  async acquire(client: VimClient, target: { datacenter: DatacenterRef; datastore: string }, url: string, o: AcquireOptions): Promise<DatastoreFile> {
    const key = `${target.datacenter.path}|${target.datastore}|${redactUrl(url)}`;
    const running = this.#inflight.get(key);
    if (running) {
      o.onTransfer?.(running.progress.info);
      const file = await running.done;
      // The transfer we waited for is not ours: our own record says nothing moved for us.
      return this.#locked(file, async () => {
        this.#pin(file);
        return file;
      });
    }
    const progress = new TransferProgress(o.logger, undefined);
    o.onTransfer?.(progress.info);
    const done = this.#transfer(client, target, url, progress, o);
    const entry: InFlight = { progress, done };
    this.#inflight.set(key, entry);
    try {
      return await done;
    } finally {
      if (this.#inflight.get(key) === entry) this.#inflight.delete(key);
    }
  }

  async #transfer(client: VimClient, target: { datacenter: DatacenterRef; datastore: string }, url: string, progress: TransferProgress, o: AcquireOptions): Promise<DatastoreFile> {
    const shown = redactUrl(url);
    let src: Awaited<ReturnType<typeof openImage>>;
    try {
      src = await openImage(url, o);
    } catch (err) {
      progress.failed(err);
      throw err;
    }
    progress.setTotal(src.total);
    const name = createHash("sha256").update(`${shown}\n${src.validator}`).digest("hex").slice(0, 20);
    const file: DatastoreFile = { ...target, path: `${MEDIA_DIR}/${name}.iso` };
    const part: DatastoreFile = { ...target, path: `${file.path}.part` };
    return this.#locked(file, async () => {
      try {
        const existing = await statDatastoreFile(client, file, { signal: o.signal });
        if (existing && (src.total === undefined || existing.size === undefined || existing.size === src.total)) {
          src.close();
          progress.done(true);
          this.#pin(file);
          return file;
        }
        await makeDatastoreDirectory(client, { ...target, path: MEDIA_DIR });
        o.logger.info("uploading image to the datastore", { image: shown, file: datastorePath(file), total: src.total });
        await uploadDatastoreFile(client, part, progress.count(src.body), {
          length: src.total,
          idleTimeoutMs: o.datastoreIdleMs,
          responseTimeoutMs: o.datastoreIdleMs,
          signal: o.signal,
        });
        await moveDatastoreFile(client, part, file, o.taskTimeoutMs);
      } catch (err) {
        src.close();
        progress.failed(err);
        await deleteDatastoreFile(client, part, o.taskTimeoutMs).catch((e) => o.logger.debug("removing the partial upload failed", { err: e }));
        if (err instanceof MediaSourceError || err instanceof MediaUrlError) throw err;
        if (o.signal?.aborted) throw err;
        throw new MediaDatastoreError(`putting ${shown} on datastore ${target.datastore}: ${(err as Error).message}`, { cause: err });
      }
      progress.done();
      this.#pin(file);
      return file;
    });
  }

  /**
   * A VM stopped using `file`: delete it when no VM's CD-ROM names it any more (connected or
   * start-connected) and no insert here holds a pin. Resolves true when it was deleted.
   */
  async release(client: VimClient, file: DatastoreFile, o: { taskTimeoutMs: number; logger: Logger }): Promise<boolean> {
    return this.#locked(file, async () => {
      if (this.pinned(file)) return false;
      const name = datastorePath(file);
      const vms = await retrieveProperties(client, { type: "VirtualMachine", paths: ["name", "config.hardware.device"] });
      const users = vms.filter((vm) =>
        cdromView(vm.props["config.hardware.device"]).cdroms.some(
          (cd) => cd.backing.kind === "iso" && sameFile(cd.backing.fileName, name) && (cd.connected || cd.startConnected),
        ),
      );
      if (users.length) {
        o.logger.debug("image still in use; kept", { file: name, vms: users.length });
        return false;
      }
      if (this.pinned(file)) return false;
      try {
        const deleted = await deleteDatastoreFile(client, file, o.taskTimeoutMs);
        if (deleted) o.logger.info("image no longer used by any VM; deleted from the datastore", { file: name });
        return deleted;
      } catch (err) {
        o.logger.warn("deleting an unused image failed; it stays on the datastore", { file: name, code: errorCode(err), err });
        return false;
      }
    });
  }
}

function sameFile(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\]\s*/, "] ");
  return norm(a) === norm(b);
}
