// One machine's serial console: the VM's end (a BytePort from the vSPC server, which keeps it
// across vMotion) fanned out to its watchers (an IPMI SOL session, `esxkit console` terminals),
// the in-memory ring and the log file. Input from any watcher goes to the VM, serial breaks
// included (the VM's port decides how a break travels: the vSPC sends telnet IAC BRK); keystrokes
// and breaks while the VM is not connected are dropped and counted, as on an unplugged line.
import type { Logger } from "../../log/logger.ts";
import type { BytePort } from "../../net/byte-port.ts";
import type { ConsoleLogFile } from "./log-file.ts";
import { ByteRing } from "./ring-buffer.ts";

export type WatcherKind = "sol" | "terminal";

export interface ConsoleWatcherStatus {
  kind: WatcherKind;
  who: string;
  since: string;
}

export interface MachineConsoleStatus {
  connected: boolean;
  /** Where the VM's host connected from. */
  peer?: string;
  connected_since?: string;
  bytes_from_vm: number;
  bytes_to_vm: number;
  /** Keystrokes dropped because the VM was not connected. */
  bytes_dropped: number;
  /** Serial breaks passed to the VM's port. */
  breaks_to_vm: number;
  /** Serial breaks dropped: no VM connected, or its port did not take them. */
  breaks_dropped: number;
  /** VM links that came and went since this console was created. */
  connects: number;
  watchers: ConsoleWatcherStatus[];
  log_file?: string;
}

export interface MachineConsoleOptions {
  name: string;
  ringBytes: number;
  log?: ConsoleLogFile;
  logger: Logger;
  /** Counts bytes each way for metrics: the console's name is the label. */
  onBytes?: (direction: "from_vm" | "to_vm", n: number) => void;
}

interface Watcher {
  kind: WatcherKind;
  who: string;
  since: number;
  receiver?: (bytes: Uint8Array) => void;
  onClose?: (reason: string) => void;
  closed: boolean;
}

export class MachineConsole {
  readonly name: string;
  readonly #opts: MachineConsoleOptions;
  readonly #ring: ByteRing;
  readonly #watchers = new Set<Watcher>();
  #vm: { port: BytePort; peer: () => string; since: number } | undefined;
  #bytesFromVm = 0;
  #bytesToVm = 0;
  #dropped = 0;
  #breaksToVm = 0;
  #breaksDropped = 0;
  #connects = 0;
  #closed = false;

  constructor(opts: MachineConsoleOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#ring = new ByteRing(opts.ringBytes);
  }

  get connected(): boolean {
    return this.#vm !== undefined;
  }

  /**
   * The VM's serial port arrived (a new link replaces an old one, which is closed). `peer`
   * names the host carrying it now: after a vMotion, the target host.
   */
  attachVm(port: BytePort, peer: string | (() => string)): void {
    if (this.#closed) {
      port.close("console removed");
      return;
    }
    const previous = this.#vm;
    const link = { port, peer: typeof peer === "string" ? () => peer : peer, since: Date.now() };
    this.#vm = link;
    this.#connects++;
    if (previous) previous.port.close("replaced by a new connection of the same VM");
    port.onData((bytes) => this.#fromVm(bytes));
    port.onClose((reason) => {
      if (this.#vm !== link) return;
      this.#vm = undefined;
      this.#opts.logger.info("VM serial port disconnected", { console: this.name, peer: link.peer(), reason });
    });
    this.#opts.logger.info("VM serial port connected", { console: this.name, peer: link.peer() });
  }

  /** A watcher's end: write() types into the VM, onData() receives the VM's output. */
  openWatcher(kind: WatcherKind, who: string): BytePort {
    const w: Watcher = { kind, who, since: Date.now(), closed: false };
    this.#watchers.add(w);
    return {
      write: (bytes) => {
        if (w.closed) return false;
        this.#toVm(bytes);
        return true;
      },
      sendBreak: () => {
        if (w.closed) return false;
        this.#breakToVm(w);
        return true;
      },
      onData: (receiver) => {
        w.receiver = receiver;
      },
      onClose: (receiver) => {
        w.onClose = receiver;
      },
      close: (reason = "closed") => this.#dropWatcher(w, reason),
    };
  }

  /** What the VM wrote lately (the ring), oldest first. */
  recent(): Uint8Array {
    return this.#ring.contents();
  }

  /** The kept log on disk; the ring when there is no log file or the disk refuses writes. */
  logContents(): Uint8Array {
    const log = this.#opts.log;
    if (log) {
      const disk = log.contents();
      if (log.healthy) return disk;
    }
    return this.#ring.contents();
  }

  status(): MachineConsoleStatus {
    const vm = this.#vm;
    return {
      connected: vm !== undefined,
      peer: vm?.peer(),
      connected_since: vm ? new Date(vm.since).toISOString() : undefined,
      bytes_from_vm: this.#bytesFromVm,
      bytes_to_vm: this.#bytesToVm,
      bytes_dropped: this.#dropped,
      breaks_to_vm: this.#breaksToVm,
      breaks_dropped: this.#breaksDropped,
      connects: this.#connects,
      watchers: [...this.#watchers].map((w) => ({ kind: w.kind, who: w.who, since: new Date(w.since).toISOString() })),
      log_file: this.#opts.log?.path,
    };
  }

  /** The BMC went away: its VM link and watchers are closed, the log flushed. */
  close(reason = "console removed"): void {
    if (this.#closed) return;
    this.#closed = true;
    const vm = this.#vm;
    this.#vm = undefined;
    vm?.port.close(reason);
    for (const w of [...this.#watchers]) this.#dropWatcher(w, reason);
    this.#opts.log?.close();
  }

  #fromVm(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#bytesFromVm += bytes.length;
    this.#opts.onBytes?.("from_vm", bytes.length);
    this.#ring.push(bytes);
    this.#opts.log?.write(bytes);
    for (const w of this.#watchers) {
      try {
        w.receiver?.(bytes);
      } catch (err) {
        // One broken watcher must not take the console (or the other watchers) down.
        this.#opts.logger.warn("console watcher failed; detaching it", { console: this.name, watcher: w.who, error: err });
        this.#dropWatcher(w, "watcher failed");
      }
    }
  }

  #dropWatcher(w: Watcher, reason: string): void {
    if (w.closed) return;
    w.closed = true;
    this.#watchers.delete(w);
    w.onClose?.(reason);
  }

  #toVm(bytes: Uint8Array): void {
    const vm = this.#vm;
    if (!vm || !vm.port.write(bytes)) {
      this.#dropped += bytes.length;
      return;
    }
    this.#bytesToVm += bytes.length;
    this.#opts.onBytes?.("to_vm", bytes.length);
  }

  #breakToVm(w: Watcher): void {
    const vm = this.#vm;
    if (vm?.port.sendBreak?.()) {
      this.#breaksToVm++;
      this.#opts.logger.debug("serial break sent to the VM", { console: this.name, watcher: w.who });
      return;
    }
    this.#breaksDropped++;
    this.#opts.logger.debug(vm ? "serial break dropped: the VM's port did not take it" : "serial break dropped: the VM is not connected", { console: this.name, watcher: w.who });
  }
}
