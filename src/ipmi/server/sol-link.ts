// One active SOL payload's packet protocol (IPMI v2.0 section 15.9-15.11): stop-and-wait in
// each direction. BMC → console: one data packet in flight (sequence 1..15), retransmitted
// per the SOL retry parameters until ACKed, then given up; a partial ACK sends the rest under
// a new sequence number. Console → BMC: every packet with a sequence number is ACKed with the
// characters accepted; a repeated sequence number is re-ACKed and not delivered twice.
// Timers exist only while the link is up; stop() clears them.
//
// Pacing: the one packet in flight is what batches output. Output that finds the link idle
// leaves on the next turn of the event loop (a keystroke's echo must not wait for the
// accumulate interval); output that arrives while a packet is unacked waits for its ACK and
// then leaves at once, as many bytes as one packet holds. So the accumulate interval and
// send threshold (SOL parameter 3) are upper bounds here: characters never wait longer, and
// a virtual serial port hands over whole chunks, not characters a UART would trickle in.
import type { Logger } from "../../log/logger.ts";
import { SOL_HEADER_LENGTH, SOL_MAX_SEQUENCE, SolBmcStatus, SolConsoleOp } from "../codes/sol.ts";
import type { SolPacket } from "../wire/sol.ts";
import type { SolSettings } from "./sol-config.ts";
import type { EngineStats } from "./types.ts";

/**
 * VM output held while the console is slow, before the oldest bytes are dropped (counted in
 * solOverrunBytes, flagged to the console as transmit overrun, logged once per episode).
 * Several MiB: a boot log or a burst of a few MiB from the VM arrives in full.
 */
export const SOL_BUFFER_LIMIT = 4 * 1024 * 1024;

export interface SolLinkDeps {
  /** Read on every use: Set SOL Config may change retry and accumulate settings mid-session. */
  settings(): SolSettings;
  /** Payload size announced in Activate Payload (header included). */
  outboundPayloadSize: number;
  /** Seals and sends one packet to the console (unsolicited). */
  send(p: SolPacket): void;
  /** Hands keystrokes to the serial port; false when the port no longer takes them. */
  deliver(bytes: Uint8Array): boolean;
  /** Passes a serial break to the port; false when it cannot carry one or did not take it. */
  deliverBreak(): boolean;
  /** The console stopped answering: every retry of a packet went unanswered. */
  onGiveUp?(): void;
  stats: EngineStats;
  logger: Logger;
}

interface InFlight {
  sequence: number;
  data: Uint8Array;
  flags: number;
  tries: number;
}

const EMPTY = new Uint8Array(0);

export class SolLink {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private lastOutSeq = 0;
  private inFlight?: InFlight;
  private sendTimer?: ReturnType<typeof setTimeout>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private lastInSeq = 0;
  private lastInAccepted = 0;
  private overrun = false;
  /** Bytes dropped in the current overrun episode; logged when the queue drains. */
  private overrunBytes = 0;
  private idleSend?: ReturnType<typeof setImmediate>;
  private portGone = false;
  private stopped = false;

  constructor(private deps: SolLinkDeps) {}

  /** Status bits every BMC → console packet carries. */
  private status(): number {
    return this.portGone ? SolBmcStatus.inactive | SolBmcStatus.transferUnavailable : 0;
  }

  /** VM output to pass on. Never sends synchronously: the caller may still be answering a request. */
  fromSystem(bytes: Uint8Array): void {
    if (this.stopped || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (this.queued > SOL_BUFFER_LIMIT) this.dropOldest(this.queued - SOL_BUFFER_LIMIT);
    if (this.inFlight || this.sendTimer || this.idleSend) return;
    // On the next turn, not now: chunks read in this turn go in one packet, and a reply to a
    // request being answered (Activate Payload) leaves first.
    this.idleSend = setImmediate(() => {
      this.idleSend = undefined;
      this.sendNext();
    });
  }

  private dropOldest(excess: number): void {
    if (this.overrunBytes === 0) {
      this.deps.logger.warn("SOL output buffer full: dropping the oldest VM output", { limit: SOL_BUFFER_LIMIT });
    }
    this.overrun = true;
    this.overrunBytes += excess;
    this.deps.stats.solOverrunBytes += excess;
    this.queued -= excess;
    while (excess > 0) {
      const head = this.queue[0]!;
      if (head.length <= excess) {
        this.queue.shift();
        excess -= head.length;
      } else {
        this.queue[0] = head.subarray(excess);
        excess = 0;
      }
    }
  }

  /** The serial port closed from the far side: tell the console, keep the session. */
  portClosed(): void {
    if (this.stopped || this.portGone) return;
    this.portGone = true;
    this.dropQueue();
    this.sendStatusOnly();
  }

  /** Sends one last "SOL inactive" packet (deactivated from another session), then stops. */
  notifyDeactivated(): void {
    if (this.stopped) return;
    this.deps.send({ sequence: this.nextSeq(), ackSequence: 0, acceptedCount: 0, flags: SolBmcStatus.inactive, data: EMPTY });
    this.countOut();
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.sendTimer);
    clearTimeout(this.retryTimer);
    if (this.idleSend) clearImmediate(this.idleSend);
    this.sendTimer = this.retryTimer = this.idleSend = undefined;
    this.inFlight = undefined;
    this.dropQueue();
  }

  /**
   * A packet from the console. `replayed` = its session sequence number was seen before:
   * only a re-ACK of the last packet is safe then. Returns the ACK to send back, if any.
   */
  fromConsole(p: SolPacket, replayed: boolean): SolPacket | undefined {
    if (this.stopped) return undefined;
    if (replayed) return p.sequence !== 0 && p.sequence === this.lastInSeq ? this.ackFor(p.sequence, this.lastInAccepted) : undefined;
    this.deps.stats.solPacketsIn++;
    if (p.ackSequence !== 0) this.onAck(p);
    if (p.sequence === 0) return undefined;
    if (p.sequence === this.lastInSeq) return this.ackFor(p.sequence, this.lastInAccepted);
    if (p.flags & SolConsoleOp.flushOutbound) {
      // Drop what the BMC holds for the console, the packet in flight included.
      this.dropQueue();
      clearTimeout(this.retryTimer);
      this.inFlight = undefined;
    }
    // Keystrokes for a port that is gone are taken and dropped: a NACK would only make the
    // console resend them forever.
    const accepted = p.data.length;
    if (accepted > 0) {
      if (!this.portGone && !this.deps.deliver(p.data)) this.portClosed();
      if (!this.portGone) this.deps.stats.solBytesIn += accepted;
    }
    // After the packet's characters: a break typed after them must not overtake them. A resent
    // packet (same sequence number) was answered above, so one request is one break.
    if (p.flags & SolConsoleOp.generateBreak) {
      this.deps.stats.solBreaks++;
      if (this.portGone || !this.deps.deliverBreak()) {
        this.deps.stats.solBreaksDropped++;
        this.deps.logger.debug("SOL break dropped: the serial port did not take it", { portGone: this.portGone });
      }
    }
    this.lastInSeq = p.sequence;
    this.lastInAccepted = accepted;
    return this.ackFor(p.sequence, accepted);
  }

  private ackFor(sequence: number, accepted: number): SolPacket {
    return { sequence: 0, ackSequence: sequence, acceptedCount: accepted, flags: this.status(), data: EMPTY };
  }

  private onAck(p: SolPacket): void {
    const f = this.inFlight;
    if (!f || p.ackSequence !== f.sequence) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.inFlight = undefined;
    const accepted = Math.min(p.acceptedCount, f.data.length);
    this.deps.stats.solBytesOut += accepted;
    const rest = f.data.subarray(accepted);
    if (rest.length > 0) {
      this.queue.unshift(rest);
      this.queued += rest.length;
    }
    if (this.queued === 0) return;
    // A NACK says "not now": wait a retry interval before offering the rest again.
    if ((p.flags & SolConsoleOp.nack) !== 0) {
      this.armSend(Math.max(10, this.deps.settings().retryInterval * 10));
      return;
    }
    // The console is ready for more now: a timer here (even 0 ms, ~1 ms in practice) would
    // cap throughput at one packet per timer tick.
    this.sendNext();
  }

  private armSend(delayMs: number): void {
    if (this.sendTimer || this.stopped) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.sendNext();
    }, delayMs);
    this.sendTimer.unref?.();
  }

  private nextSeq(): number {
    this.lastOutSeq = this.lastOutSeq >= SOL_MAX_SEQUENCE ? 1 : this.lastOutSeq + 1;
    return this.lastOutSeq;
  }

  private takeData(max: number): Uint8Array {
    const n = Math.min(max, this.queued);
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = this.queue[0]!;
      const k = Math.min(head.length, n - o);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    this.queued -= n;
    if (this.queued === 0 && this.overrunBytes > 0) {
      this.deps.logger.warn("SOL output dropped while the console was slow", { bytes: this.overrunBytes });
      this.overrunBytes = 0;
    }
    return out;
  }

  private sendNext(): void {
    if (this.stopped || this.inFlight || this.queued === 0 || this.portGone) return;
    const data = this.takeData(this.deps.outboundPayloadSize - SOL_HEADER_LENGTH);
    let flags = this.status();
    if (this.overrun) {
      flags |= SolBmcStatus.transmitOverrun;
      this.overrun = false;
    }
    this.inFlight = { sequence: this.nextSeq(), data, flags, tries: 0 };
    this.transmit();
  }

  private transmit(): void {
    const f = this.inFlight;
    if (!f) return;
    this.deps.send({ sequence: f.sequence, ackSequence: 0, acceptedCount: 0, flags: f.flags, data: f.data });
    this.countOut();
    const s = this.deps.settings();
    this.retryTimer = setTimeout(() => this.onRetryTimer(), Math.max(5, s.retryInterval * 10));
    this.retryTimer.unref?.();
  }

  private onRetryTimer(): void {
    this.retryTimer = undefined;
    const f = this.inFlight;
    if (!f || this.stopped) return;
    if (f.tries < this.deps.settings().retryCount) {
      f.tries++;
      this.deps.stats.solRetransmits++;
      this.transmit();
      return;
    }
    this.inFlight = undefined;
    this.deps.stats.solGiveUps++;
    this.deps.logger.debug("SOL packet given up: no ACK after every retry", { sequence: f.sequence, bytes: f.data.length });
    this.deps.onGiveUp?.();
    if (!this.stopped && this.queued > 0) this.armSend(0);
  }

  /** A data-less packet that only carries status (port gone), ACKed like any other. */
  private sendStatusOnly(): void {
    if (this.inFlight) {
      clearTimeout(this.retryTimer);
      this.inFlight = undefined;
    }
    this.inFlight = { sequence: this.nextSeq(), data: EMPTY, flags: this.status(), tries: 0 };
    this.transmit();
  }

  private dropQueue(): void {
    this.queue = [];
    this.queued = 0;
  }

  private countOut(): void {
    this.deps.stats.solPacketsOut++;
  }
}
