// A VM's serial output on disk: <dir>/<name>.log, rotated to .log.1 … .log.<keep> when it
// passes maxBytes, so a boot that happened at night can still be read in the morning and the
// disk cannot fill. Writes are batched and synchronous (a few KiB at a time, in order); a
// failing disk is reported once a minute and never stops the console itself.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log/logger.ts";

const FLUSH_DELAY_MS = 100;
const FLUSH_BYTES = 64 * 1024;
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface ConsoleLogOptions {
  dir: string;
  /** File-name stem: the [[bmc]] name, made safe for a file name. */
  name: string;
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
  logger: Logger;
}

/** "web 01/a" → "web_01_a": a BMC name as one path component, never a path. */
export function logFileStem(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return safe || "_";
}

export function consoleLogPaths(dir: string, name: string, keep: number): string[] {
  const base = join(dir, `${logFileStem(name)}.log`);
  return [base, ...Array.from({ length: keep }, (_, i) => `${base}.${i + 1}`)];
}

/** The whole kept log, oldest first (rotated files, then the current one). */
export function readConsoleLog(dir: string, name: string, keep: number): Uint8Array {
  const parts = consoleLogPaths(dir, name, keep)
    .reverse()
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

export class ConsoleLogFile {
  readonly #opts: ConsoleLogOptions;
  readonly #paths: string[];
  #fd: number | undefined;
  #size = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastErrorLog = 0;
  /** The last flush failed: what is on disk is not the whole story. */
  #failing = false;
  #closed = false;

  constructor(opts: ConsoleLogOptions) {
    this.#opts = opts;
    this.#paths = consoleLogPaths(opts.dir, opts.name, opts.keep);
    this.#removeBeyondKeep();
  }

  /** After log_files was lowered: the files past the new count would lie on disk forever. */
  #removeBeyondKeep(): void {
    for (let i = this.#opts.keep + 1; ; i++) {
      const p = `${this.path}.${i}`;
      if (!existsSync(p)) return;
      try {
        rmSync(p, { force: true });
      } catch {
        return;
      }
    }
  }

  get path(): string {
    return this.#paths[0] as string;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    this.#pending.push(bytes.slice());
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  /** False while writes fail (a full or read-only disk): the reader should prefer memory. */
  get healthy(): boolean {
    return !this.#failing;
  }

  /** Everything kept on disk, oldest first, including what was still pending. */
  contents(): Uint8Array {
    this.flush();
    return readConsoleLog(this.#opts.dir, this.#opts.name, this.#opts.keep);
  }

  /** Writes what is pending now (before the log is read, and on close). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const data = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      let off = 0;
      while (off < data.length) {
        const fd = this.#open();
        const room = Math.max(1, this.#opts.maxBytes - this.#size);
        const n = writeSync(fd, data, off, Math.min(room, data.length - off));
        off += n;
        this.#size += n;
        this.#failing = false;
        if (this.#size >= this.#opts.maxBytes) this.#rotate();
      }
    } catch (err) {
      this.#failing = true;
      this.#closeFd();
      const now = Date.now();
      if (now - this.#lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
        this.#lastErrorLog = now;
        this.#opts.logger.warn("console log not written; the console itself keeps working", { file: this.path, error: err });
      }
    }
  }

  close(): void {
    this.flush();
    this.#closed = true;
    this.#closeFd();
  }

  #open(): number {
    if (this.#fd !== undefined) return this.#fd;
    mkdirSync(this.#opts.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, "a", 0o600);
    this.#fd = fd;
    this.#size = fstatSync(fd).size;
    if (this.#size >= this.#opts.maxBytes) this.#rotate();
    return this.#fd ?? this.#open();
  }

  #rotate(): void {
    this.#closeFd();
    const paths = this.#paths;
    if (paths.length === 1) rmSync(paths[0] as string, { force: true });
    for (let i = paths.length - 1; i > 0; i--) {
      const from = paths[i - 1] as string;
      if (existsSync(from)) renameSync(from, paths[i] as string);
    }
    this.#size = 0;
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = undefined;
  }
}
