// One TCP connection from an ESXi host: telnet framing, option negotiation and the replies every
// option-232 session needs whatever it turns out to be (a new VM, or the target host of a vMotion).
// What the connection means is its owner's business: the handshake first, then a link.
import type { Socket } from "node:net";
import type { Logger } from "../log/logger.ts";
import { Command, Option, type Verb } from "../telnet/codes.ts";
import { TelnetDecoder } from "../telnet/decoder.ts";
import { command as telnetCommand, data as telnetData, optionCommand, subnegotiation } from "../telnet/encode.ts";
import { type VmwareMessage, vmwareMessage } from "../telnet/vmware.ts";
import { VmwareCode } from "../telnet/vmware-codes.ts";

/** The secret's length; decode uses it to split sequence from secret (for the log only). */
export const SECRET_BYTES = 8;

/** Sub-options this proxy understands, sent in KNOWN-SUBOPTIONS-2. */
const KNOWN: number[] = [
  VmwareCode.KNOWN_SUBOPTIONS_1,
  VmwareCode.KNOWN_SUBOPTIONS_2,
  VmwareCode.UNKNOWN_SUBOPTION_RCVD_1,
  VmwareCode.UNKNOWN_SUBOPTION_RCVD_2,
  VmwareCode.VMOTION_BEGIN,
  VmwareCode.VMOTION_GOAHEAD,
  VmwareCode.VMOTION_NOTNOW,
  VmwareCode.VMOTION_PEER,
  VmwareCode.VMOTION_PEER_OK,
  VmwareCode.VMOTION_COMPLETE,
  VmwareCode.VMOTION_ABORT,
  VmwareCode.DO_PROXY,
  VmwareCode.WILL_PROXY,
  VmwareCode.WONT_PROXY,
  VmwareCode.VM_VC_UUID,
  VmwareCode.GET_VM_VC_UUID,
  VmwareCode.VM_NAME,
  VmwareCode.GET_VM_NAME,
  VmwareCode.VM_BIOS_UUID,
  VmwareCode.GET_VM_BIOS_UUID,
  VmwareCode.VM_LOCATION_UUID,
  VmwareCode.GET_VM_LOCATION_UUID,
];

/** Options we let the VM enable on its side (WILL → DO) and on ours (DO → WILL). */
const HIS_OPTIONS = new Set<number>([Option.BINARY, Option.SGA, Option.VMWARE]);
const OUR_OPTIONS = new Set<number>([Option.BINARY, Option.SGA]);

export interface ConnectionOwner {
  onMessage(conn: VspcConnection, msg: VmwareMessage): void;
  onData(conn: VspcConnection, bytes: Uint8Array): void;
  onClose(conn: VspcConnection, reason: string): void;
}

export interface ConnectionOptions {
  socket: Socket;
  logger: Logger;
  maxSubnegotiationBytes: number;
  /** Bytes the socket may hold unsent before data writes are dropped. */
  bufferBytes: number;
  acceptsServiceUri?: (uri: string) => boolean;
  /** A protocol fault: the server counts and logs it; the connection is already closing. */
  onFault(conn: VspcConnection, reason: string, fields: Record<string, unknown>): void;
  /** Turned away on purpose (e.g. WONT-PROXY): the server counts and logs it. */
  onRefused(conn: VspcConnection, reason: string, fields: Record<string, unknown>): void;
  /** Bytes thrown away because the socket is too far behind. */
  onOverflow(bytes: number): void;
}

export class VspcConnection {
  readonly peer: string;
  owner: ConnectionOwner | undefined;
  /** The VM said WILL 232. */
  vmwareEnabled = false;
  private readonly decoder: TelnetDecoder;
  private readonly sentDo = new Set<number>();
  private readonly sentWill = new Set<number>();
  private closed = false;

  constructor(private readonly opts: ConnectionOptions) {
    const s = opts.socket;
    this.peer = `${s.remoteAddress}:${s.remotePort}`;
    this.decoder = new TelnetDecoder({ maxSubnegotiationBytes: opts.maxSubnegotiationBytes });
    s.setNoDelay(true);
    s.on("data", (chunk: Buffer) => this.receive(chunk));
    s.on("error", (err: Error) => this.close(`socket error: ${err.message}`));
    s.on("close", () => this.close("closed by the host"));
    this.offer("WILL", Option.BINARY);
    this.offer("DO", Option.BINARY);
    this.offer("WILL", Option.SGA);
    this.offer("DO", Option.SGA);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get log(): Logger {
    return this.opts.logger;
  }

  sendMessage(msg: VmwareMessage): void {
    this.write(subnegotiation.encode({ option: Option.VMWARE, payload: vmwareMessage.encode(msg) }));
  }

  /** Console bytes toward the VM. False when the socket is closed or too far behind (bytes dropped). */
  sendData(bytes: Uint8Array, force = false): boolean {
    if (this.closed) return false;
    if (!force && this.opts.socket.writableLength > this.opts.bufferBytes) {
      this.opts.onOverflow(bytes.length);
      return false;
    }
    this.write(telnetData.encode(bytes));
    return true;
  }

  /**
   * A serial break toward the VM: telnet IAC BRK (RFC 854, code 243), the only break a plain
   * telnet session has. False when the socket is closed or too far behind (the break dropped).
   * Unverified: that ESXi turns IAC BRK on a network serial port into a break on the VM's
   * virtual UART. VMware documents no break in its proxy protocol and no host has been tried.
   */
  sendBreak(force = false): boolean {
    if (this.closed) return false;
    if (!force && this.opts.socket.writableLength > this.opts.bufferBytes) {
      this.opts.onOverflow(telnetCommand.encodingLength());
      return false;
    }
    this.write(telnetCommand.encode(Command.BRK));
    return true;
  }

  /** `now` resets at once (server shutdown); otherwise queued bytes get a second to leave. */
  close(reason: string, now = false): void {
    if (this.closed) return;
    this.closed = true;
    if (now) this.opts.socket.destroy();
    else {
      this.opts.socket.end();
      // A host that never reads would keep the socket half-open.
      setTimeout(() => this.opts.socket.destroy(), 1000).unref();
    }
    this.owner?.onClose(this, reason);
  }

  /** Drops the connection for a protocol fault, through the server's counter and log. */
  fault(reason: string, fields: Record<string, unknown> = {}): void {
    if (this.closed) return;
    this.opts.onFault(this, reason, fields);
    this.close(reason);
  }

  private write(bytes: Uint8Array): void {
    if (!this.closed) this.opts.socket.write(bytes);
  }

  private offer(verb: Verb, option: number): void {
    (verb === "WILL" ? this.sentWill : this.sentDo).add(option);
    this.write(optionCommand.encode({ verb, option }));
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const ev of this.decoder.push(chunk)) {
      if (this.closed) return;
      switch (ev.type) {
        case "data":
          this.owner?.onData(this, ev.bytes);
          break;
        case "option":
          this.negotiate(ev.verb, ev.option);
          break;
        case "command":
          this.log.debug("telnet command ignored", { peer: this.peer, command: ev.command });
          break;
        case "subnegotiation":
          if (ev.option === Option.VMWARE) this.vmware(ev.payload);
          else this.log.debug("subnegotiation ignored", { peer: this.peer, option: ev.option });
          break;
        case "error":
          this.fault(ev.reason, { detail: ev.message });
          return;
      }
    }
  }

  private negotiate(verb: Verb, option: number): void {
    switch (verb) {
      case "WILL":
        if (!HIS_OPTIONS.has(option)) this.write(optionCommand.encode({ verb: "DONT", option }));
        else if (!this.sentDo.has(option)) this.offer("DO", option);
        if (option === Option.VMWARE) this.vmwareEnabled = true;
        break;
      case "DO":
        if (!OUR_OPTIONS.has(option)) this.write(optionCommand.encode({ verb: "WONT", option }));
        else if (!this.sentWill.has(option)) this.offer("WILL", option);
        break;
      case "WONT":
        if (option === Option.VMWARE) {
          this.fault("no-vmware-extension", { detail: "the peer refuses telnet option 232; not an ESXi serial port" });
          return;
        }
        if (this.sentDo.delete(option)) this.write(optionCommand.encode({ verb: "DONT", option }));
        break;
      case "DONT":
        if (this.sentWill.delete(option)) this.write(optionCommand.encode({ verb: "WONT", option }));
        break;
    }
  }

  private vmware(payload: Uint8Array): void {
    let msg: VmwareMessage;
    try {
      msg = vmwareMessage.decode(payload, { secretLength: SECRET_BYTES });
    } catch (err) {
      this.fault((err as { reason?: string }).reason ?? "vmware-decode", { detail: (err as Error).message });
      return;
    }
    switch (msg.kind) {
      case "known-suboptions-1":
        this.sendMessage({ kind: "known-suboptions-2", codes: KNOWN });
        break;
      case "do-proxy": {
        const ok = this.opts.acceptsServiceUri?.(msg.serviceUri) ?? true;
        this.sendMessage({ kind: ok ? "will-proxy" : "wont-proxy" });
        if (!ok) {
          this.opts.onRefused(this, "service URI refused (WONT-PROXY)", { serviceUri: msg.serviceUri });
          this.close("service URI refused");
          return;
        }
        break;
      }
      case "unknown":
        this.log.debug("unknown option-232 sub-option", { peer: this.peer, code: msg.code });
        this.sendMessage({ kind: "unknown-suboption-rcvd-2", code: msg.code });
        return;
    }
    this.owner?.onMessage(this, msg);
  }
}
