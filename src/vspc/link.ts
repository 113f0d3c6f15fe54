// One VM's serial port as a BytePort. The link outlives the TCP connection under it: a vMotion
// moves it from the source host's connection to the target host's. Between GOAHEAD and
// COMPLETE/ABORT nothing is written toward the VM; those bytes (and serial breaks) wait here
// (bounded) and go out on whichever connection wins, once, in order.
import { timingSafeEqual } from "node:crypto";
import type { Logger } from "../log/logger.ts";
import type { BytePort } from "../net/byte-port.ts";
import type { VmwareMessage } from "../telnet/vmware.ts";
import type { ConnectionOwner, VspcConnection } from "./connection.ts";
import type { ResolvedLimits, VmIdentity, VspcLinkStatus, VspcStats } from "./types.ts";

export interface LinkContext {
  logger: Logger;
  limits: ResolvedLimits;
  stats: VspcStats;
  secret(): Uint8Array;
  vmotionStarted(link: VmLink): void;
  vmotionEnded(link: VmLink): void;
  linkClosed(link: VmLink): void;
}

/** A serial break held during a vMotion, in its place among the held bytes. */
const BREAK = Symbol("break");
/** What a held break counts against the buffer: its two bytes on the wire (IAC BRK). */
const BREAK_BYTES = 2;

interface Vmotion {
  seq: Uint8Array;
  secret: Uint8Array;
  peer: VspcConnection | undefined;
  held: (Uint8Array | typeof BREAK)[];
  heldBytes: number;
  timer: ReturnType<typeof setTimeout>;
}

const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export class VmLink implements BytePort {
  readonly since = new Date();
  private conn: VspcConnection;
  private vmotion: Vmotion | undefined;
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  private readonly closeReceivers: ((reason: string) => void)[] = [];
  private unclaimed: Uint8Array[] = [];
  private unclaimedBytes = 0;
  private closed = false;
  private bytesFromVm = 0;
  private bytesToVm = 0;
  private vmotions = 0;

  constructor(
    private readonly ctx: LinkContext,
    conn: VspcConnection,
    readonly identity: VmIdentity,
  ) {
    this.conn = conn;
    conn.owner = this.ownerFor(conn);
  }

  // ------------------------------------------------------------ BytePort

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (bytes.length === 0) return true;
    const v = this.vmotion;
    if (v) {
      if (v.heldBytes + bytes.length > this.ctx.limits.bufferBytes) this.overflow(bytes.length);
      else {
        v.held.push(bytes.slice());
        v.heldBytes += bytes.length;
      }
      return true;
    }
    if (this.conn.sendData(bytes)) this.countToVm(bytes.length);
    return true;
  }

  /** A break toward the VM; during a vMotion it waits with the held bytes, in order. */
  sendBreak(): boolean {
    if (this.closed) return false;
    const v = this.vmotion;
    if (v) {
      if (v.heldBytes + BREAK_BYTES > this.ctx.limits.bufferBytes) {
        this.overflow(BREAK_BYTES);
        return false;
      }
      v.held.push(BREAK);
      v.heldBytes += BREAK_BYTES;
      return true;
    }
    return this.conn.sendBreak();
  }

  onData(receiver: (bytes: Uint8Array) => void): void {
    this.receiver = receiver;
    const waiting = this.unclaimed;
    this.unclaimed = [];
    this.unclaimedBytes = 0;
    for (const b of waiting) this.deliver(b);
  }

  onClose(receiver: (reason: string) => void): void {
    this.closeReceivers.push(receiver);
  }

  close(reason = "closed by esxkit"): void {
    if (this.closed) return;
    this.closed = true;
    const v = this.vmotion;
    if (v) {
      clearTimeout(v.timer);
      v.peer?.close(reason);
      this.vmotion = undefined;
      this.ctx.vmotionEnded(this);
    }
    this.conn.close(reason);
    this.ctx.linkClosed(this);
    this.ctx.logger.info("VM link closed", { ...this.logFields(), reason });
    for (const r of this.closeReceivers) {
      try {
        r(reason);
      } catch (err) {
        this.ctx.logger.error("VM link close receiver threw", { ...this.logFields(), error: err });
      }
    }
  }

  // ------------------------------------------------------------ for the server

  /** attach() said no: close without telling anyone, since nobody holds this port. */
  discard(reason: string): void {
    this.closed = true;
    this.conn.close(reason);
  }

  /** The host connection carrying the link now. */
  get peer(): string {
    return this.conn.peer;
  }

  status(): VspcLinkStatus {
    return {
      identity: { ...this.identity },
      peer: this.conn.peer,
      since: this.since.toISOString(),
      bytesFromVm: this.bytesFromVm,
      bytesToVm: this.bytesToVm,
      vmotions: this.vmotions,
      inVmotion: this.vmotion !== undefined,
    };
  }

  get inVmotion(): boolean {
    return this.vmotion !== undefined;
  }

  /** True when the peer's sequence and secret are this link's pending vMotion's. */
  matchesPeer(seq: Uint8Array, secret: Uint8Array): boolean {
    const v = this.vmotion;
    if (!v) return false;
    const want = concat([v.seq, v.secret]);
    const got = concat([seq, secret]);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** The target host's connection proved the secret: it becomes this link's vMotion peer. */
  acceptPeer(conn: VspcConnection, early: Uint8Array[]): void {
    const v = this.vmotion;
    if (!v || this.closed) {
      conn.close("no vMotion pending");
      return;
    }
    if (v.peer && v.peer !== conn) v.peer.close("replaced by a newer vMotion peer");
    v.peer = conn;
    conn.owner = this.ownerFor(conn);
    conn.sendMessage({ kind: "vmotion-peer-ok", seq: v.seq });
    this.ctx.logger.info("vMotion peer accepted", { ...this.logFields(), target: conn.peer, seq: hex(v.seq) });
    for (const b of early) this.fromVm(b);
  }

  /** Bytes the VM sent before it was attached. */
  early(chunks: Uint8Array[]): void {
    for (const b of chunks) this.fromVm(b);
  }

  // ------------------------------------------------------------ connection events

  private ownerFor(conn: VspcConnection): ConnectionOwner {
    return {
      onData: (_c, bytes) => {
        if (conn === this.conn || conn === this.vmotion?.peer) this.fromVm(bytes);
      },
      onMessage: (_c, msg) => this.message(conn, msg),
      onClose: (_c, reason) => this.connectionClosed(conn, reason),
    };
  }

  private message(conn: VspcConnection, msg: VmwareMessage): void {
    if (this.closed) return;
    const fromPeer = conn === this.vmotion?.peer;
    switch (msg.kind) {
      case "vmotion-begin":
        if (fromPeer) {
          conn.sendMessage({ kind: "vmotion-notnow", seq: msg.seq });
          return;
        }
        // A new BEGIN from the source means its previous vMotion died without ABORT (as VMware's vSPC reads it).
        if (this.vmotion) this.abort("replaced by a new VMOTION-BEGIN");
        if (!this.closed) this.begin(msg.seq);
        return;
      case "vmotion-complete":
        if (fromPeer) this.complete();
        else this.ctx.logger.warn("VMOTION-COMPLETE from a connection that is not the vMotion peer; ignored", this.logFields());
        return;
      case "vmotion-abort":
        // Only the source may abort; the target's word counts through COMPLETE alone.
        if (this.vmotion && !fromPeer) this.abort("the source host aborted");
        return;
      case "vm-name":
        if (!fromPeer) this.identity.name = msg.value;
        return;
      default:
        this.ctx.logger.debug("sub-option ignored on an attached link", { ...this.logFields(), kind: msg.kind });
    }
  }

  private connectionClosed(conn: VspcConnection, reason: string): void {
    if (this.closed) return;
    const v = this.vmotion;
    if (v && conn === v.peer) {
      v.peer = undefined;
      this.ctx.logger.info("vMotion peer connection closed before COMPLETE", { ...this.logFields(), reason });
      return;
    }
    if (conn !== this.conn) return;
    // The source host may drop its connection once the VM is frozen; the target can still finish.
    if (v) this.ctx.logger.info("source connection closed during vMotion; waiting for the target", { ...this.logFields(), reason });
    else this.close(`VM connection closed: ${reason}`);
  }

  // ------------------------------------------------------------ vMotion

  private begin(seq: Uint8Array): void {
    const secret = this.ctx.secret();
    const timer = setTimeout(() => this.abort(`not completed within ${this.ctx.limits.vmotionLimitMs} ms`), this.ctx.limits.vmotionLimitMs);
    this.vmotion = { seq, secret, peer: undefined, held: [], heldBytes: 0, timer };
    this.ctx.vmotionStarted(this);
    // GOAHEAD goes after every byte already written on this socket: "all queued data has been transmitted".
    this.conn.sendMessage({ kind: "vmotion-goahead", seq, secret });
    this.ctx.logger.info("vMotion begins", { ...this.logFields(), seq: hex(seq) });
  }

  private complete(): void {
    const v = this.vmotion;
    if (!v?.peer) return;
    clearTimeout(v.timer);
    const old = this.conn;
    this.conn = v.peer;
    this.vmotion = undefined;
    this.ctx.vmotionEnded(this);
    this.release(v);
    this.vmotions++;
    this.ctx.stats.vmotionsCompleted++;
    old.close("vMotion complete; the target host carries the link");
    this.ctx.logger.info("vMotion complete", { ...this.logFields(), from: old.peer, seq: hex(v.seq) });
  }

  private abort(reason: string): void {
    const v = this.vmotion;
    if (!v) return;
    clearTimeout(v.timer);
    this.vmotion = undefined;
    this.ctx.vmotionEnded(this);
    this.ctx.stats.vmotionsAborted++;
    v.peer?.close(`vMotion aborted: ${reason}`);
    this.ctx.logger.warn("vMotion aborted; the source host keeps the link", { ...this.logFields(), reason, seq: hex(v.seq) });
    if (this.conn.isClosed) this.close("vMotion aborted and the source connection is gone");
    else this.release(v);
  }

  private release(v: Vmotion): void {
    let run: Uint8Array[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const bytes = concat(run);
      run = [];
      if (this.conn.sendData(bytes, true)) this.countToVm(bytes.length);
    };
    for (const item of v.held) {
      if (item !== BREAK) run.push(item);
      else {
        flush();
        this.conn.sendBreak(true);
      }
    }
    flush();
  }

  // ------------------------------------------------------------ bytes

  private fromVm(bytes: Uint8Array): void {
    this.bytesFromVm += bytes.length;
    this.ctx.stats.bytesFromVm += bytes.length;
    this.deliver(bytes);
  }

  private deliver(bytes: Uint8Array): void {
    const r = this.receiver;
    if (!r) {
      if (this.unclaimedBytes + bytes.length <= this.ctx.limits.bufferBytes) {
        this.unclaimed.push(bytes);
        this.unclaimedBytes += bytes.length;
      }
      return;
    }
    try {
      r(bytes);
    } catch (err) {
      this.ctx.logger.error("VM link data receiver threw", { ...this.logFields(), error: err });
    }
  }

  private countToVm(n: number): void {
    this.bytesToVm += n;
    this.ctx.stats.bytesToVm += n;
  }

  private overflowWarned = false;
  private overflow(n: number): void {
    this.ctx.stats.overflowBytes += n;
    if (!this.overflowWarned) {
      this.overflowWarned = true;
      this.ctx.logger.warn("VM link buffer full; bytes toward the VM dropped", { ...this.logFields(), bufferBytes: this.ctx.limits.bufferBytes });
    }
  }

  logFields(): Record<string, unknown> {
    return { peer: this.conn.peer, vm: this.identity.name, vcUuid: this.identity.vcUuid, serviceUri: this.identity.serviceUri };
  }
}
