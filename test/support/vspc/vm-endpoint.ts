// A fake VM serial port that dials the vSPC the way an ESXi host does ("Using a Proxy with
// Virtual Serial Ports", "Establish a VMware Telnet Extension Session"): IAC WILL 232, then
// KNOWN-SUBOPTIONS-1 and DO-PROXY, answering GET-VM-* with its identity. vmotion() plays the
// handover: VMOTION-BEGIN on the source connection, and from a second connection (the target
// host) VMOTION-PEER with the proxy's secret, then COMPLETE, or ABORT from the source.
// While "frozen" (between BEGIN and the end of the handover) the VM emits nothing: its console
// output waits here, as a stopped VM's would. A telnet IAC BRK from the proxy is a serial break:
// recorded in `breaks`, never mistaken for console input.
import net from "node:net";
import tls from "node:tls";
import { Command, Option } from "../../../src/telnet/codes.ts";
import { TelnetDecoder } from "../../../src/telnet/decoder.ts";
import { data, optionCommand, subnegotiation } from "../../../src/telnet/encode.ts";
import { type VmwareMessage, vmwareMessage } from "../../../src/telnet/vmware.ts";
import { VmwareCode } from "../../../src/telnet/vmware-codes.ts";
import type { VmIdentity } from "../../../src/vspc/types.ts";

export interface VmEndpointOptions {
  port: number;
  host?: string;
  tls?: boolean;
  identity: VmIdentity;
  /** KNOWN-SUBOPTIONS-1 list; default: everything a 7.0 host knows that we model. null: not sent. */
  known?: number[] | null;
  /** Send VM-VC-UUID / VM-NAME before being asked. */
  unprompted?: boolean;
  /** Echo console input back (a getty would). */
  echo?: boolean;
  /** Secret length the proxy uses (to split sequence from secret). */
  secretLength?: number;
}

export const DEFAULT_KNOWN = [
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
];

export type VmotionMode = "complete" | "abort" | "timeout" | "wrong-secret";
export type VmotionResult = "complete" | "aborted" | "timed-out" | "refused" | "notnow";

const DEADLINE_MS = 3000;

/** One host's TCP connection carrying the VM's serial port. */
export class HostConnection {
  readonly socket: net.Socket;
  readonly decoder = new TelnetDecoder({ maxSubnegotiationBytes: 1 << 16 });
  readonly options: { verb: string; option: number }[] = [];
  readonly messages: VmwareMessage[] = [];
  /** Every byte the proxy sent on this connection, as it came off the wire. */
  readonly wire: Buffer[] = [];
  closed = false;
  /** Set between GOAHEAD and the end of a handover on the source: input then would be a bug. */
  frozenSource = false;
  readonly closedPromise: Promise<void>;
  private waiters: { pred: (m: VmwareMessage) => boolean; resolve: (m: VmwareMessage) => void }[] = [];

  constructor(
    opts: VmEndpointOptions,
    private readonly onData: (c: HostConnection, bytes: Uint8Array) => void,
    private readonly onCommand: (c: HostConnection, command: number) => void,
    private readonly secretLength: number,
    private readonly answer: (c: HostConnection, m: VmwareMessage) => void,
  ) {
    const host = opts.host ?? "127.0.0.1";
    this.socket = opts.tls ? tls.connect({ port: opts.port, host, rejectUnauthorized: false }) : net.createConnection({ port: opts.port, host });
    this.socket.on("error", () => {});
    this.closedPromise = new Promise((r) =>
      this.socket.on("close", () => {
        this.closed = true;
        r();
      }),
    );
    this.socket.on("data", (chunk: Buffer) => {
      this.wire.push(chunk);
      this.receive(chunk);
    });
  }

  sendOption(verb: "WILL" | "WONT" | "DO" | "DONT", option: number): void {
    this.raw(optionCommand.encode({ verb, option }));
  }
  send(msg: VmwareMessage): void {
    this.raw(subnegotiation.encode({ option: Option.VMWARE, payload: vmwareMessage.encode(msg) }));
  }
  sendData(bytes: Uint8Array): void {
    this.raw(data.encode(bytes));
  }
  raw(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** The next (or an already received) option-232 message that fits, within a deadline. */
  waitFor(pred: (m: VmwareMessage) => boolean, what: string, ms = DEADLINE_MS): Promise<VmwareMessage> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Uint8Array): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.type === "data") this.onData(this, ev.bytes);
      else if (ev.type === "command") this.onCommand(this, ev.command);
      else if (ev.type === "option") {
        this.options.push({ verb: ev.verb, option: ev.option });
        this.negotiate(ev.verb, ev.option);
      } else if (ev.type === "subnegotiation" && ev.option === Option.VMWARE) {
        const m = vmwareMessage.decode(ev.payload, { secretLength: this.secretLength });
        this.messages.push(m);
        this.answer(this, m);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(m)) return true;
          w.resolve(m);
          return false;
        });
      }
    }
  }

  private negotiate(verb: string, option: number): void {
    const ours = option === Option.BINARY || option === Option.SGA;
    if (verb === "DO" && option !== Option.VMWARE) this.sendOption(ours ? "WILL" : "WONT", option);
    else if (verb === "WILL") this.sendOption(ours ? "DO" : "DONT", option);
  }
}

export class VmEndpoint {
  current!: HostConnection;
  /** Console input the VM received, in order, whichever host carried it. */
  readonly input: Uint8Array[] = [];
  /** Serial breaks (IAC BRK) received: for each, how many input bytes had arrived before it. */
  readonly breaks: number[] = [];
  /** Bare telnet commands other than BRK (NOP, AYT, …), which a proxy has no reason to send. */
  readonly otherCommands: number[] = [];
  /** Bytes that arrived on a source connection after GOAHEAD (must stay 0). */
  lateOnSource = 0;
  private inputReceiver: ((bytes: Uint8Array) => void) | undefined;
  private frozen = false;
  private held: Uint8Array[] = [];
  private seqCounter = 0;
  private readonly secretLength: number;

  private constructor(readonly opts: VmEndpointOptions) {
    this.secretLength = opts.secretLength ?? 8;
  }

  /** Dials the vSPC and finishes the handshake (WILL-PROXY received). */
  static async connect(opts: VmEndpointOptions): Promise<VmEndpoint> {
    const vm = new VmEndpoint(opts);
    vm.current = vm.dial();
    await vm.current.waitFor((m) => m.kind === "will-proxy" || m.kind === "wont-proxy", "WILL-PROXY").then((m) => {
      if (m.kind === "wont-proxy") throw new Error("vSPC answered WONT-PROXY");
    });
    return vm;
  }

  /** Dials without waiting: for tests that expect a refusal. */
  static start(opts: VmEndpointOptions): VmEndpoint {
    const vm = new VmEndpoint(opts);
    vm.current = vm.dial();
    return vm;
  }

  onInput(receiver: (bytes: Uint8Array) => void): void {
    this.inputReceiver = receiver;
  }

  /** Console output from the VM; held while the VM is frozen by a vMotion. */
  write(bytes: Uint8Array): void {
    if (this.frozen) this.held.push(bytes.slice());
    else this.current.sendData(bytes);
  }

  close(): void {
    this.current.close();
  }

  /** `duringHandover` runs once GOAHEAD is in: the proxy is holding bytes toward the VM then. */
  /** `peerAfterIdentity`: the target answers GET-VM-NAME before it sends VMOTION-PEER. */
  async vmotion(
    mode: VmotionMode = "complete",
    opts: { seq?: Uint8Array; duringHandover?: () => void; peerAfterIdentity?: boolean; onTarget?: (target: HostConnection) => void } = {},
  ): Promise<VmotionResult> {
    const seq = opts.seq;
    const source = this.current;
    const s = seq ?? Uint8Array.of(0x10, (++this.seqCounter >> 16) & 0xff, (this.seqCounter >> 8) & 0xff, this.seqCounter & 0xff);
    const same = (a: Uint8Array) => Buffer.from(a).equals(Buffer.from(s));
    this.frozen = true;
    const answered = source.waitFor((m) => (m.kind === "vmotion-goahead" || m.kind === "vmotion-notnow") && same(m.seq), "GOAHEAD");
    source.send({ kind: "vmotion-begin", seq: s });
    const reply = await answered;
    if (reply.kind === "vmotion-notnow") {
      this.thaw();
      return "notnow";
    }
    const secret = (reply as { secret: Uint8Array }).secret;
    source.frozenSource = true;
    opts.duringHandover?.();
    const target = this.dial(false);
    opts.onTarget?.(target);
    const peerSecret = mode === "wrong-secret" ? secret.map((b) => b ^ 0x5a) : secret;
    if (opts.peerAfterIdentity) {
      await target.waitFor((m) => m.kind === "get-vm-name", "GET-VM-NAME on the target");
      await sleep(20);
    }
    target.send({ kind: "vmotion-peer", seq: s, secret: peerSecret });
    if (mode === "wrong-secret") {
      await Promise.race([target.closedPromise, sleep(DEADLINE_MS).then(() => Promise.reject(new Error("refused peer not closed")))]);
      source.frozenSource = false;
      source.send({ kind: "vmotion-abort", seq: s });
      this.thaw();
      return "refused";
    }
    await target.waitFor((m) => m.kind === "vmotion-peer-ok", "PEER-OK");
    if (mode === "abort") {
      source.frozenSource = false;
      source.send({ kind: "vmotion-abort", seq: s });
      await withDeadline(target.closedPromise, "aborted peer closed");
      this.thaw();
      return "aborted";
    }
    if (mode === "timeout") {
      // The proxy gives up on its own and sends the held bytes to the source.
      source.frozenSource = false;
      await withDeadline(target.closedPromise, "timed-out peer closed", 10_000);
      this.thaw();
      return "timed-out";
    }
    target.send({ kind: "vmotion-complete", seq: s });
    this.current = target;
    this.thaw();
    await withDeadline(source.closedPromise, "source closed after COMPLETE");
    return "complete";
  }

  private thaw(): void {
    this.frozen = false;
    const held = this.held;
    this.held = [];
    for (const b of held) this.current.sendData(b);
  }

  private dial(handshake = true): HostConnection {
    const c = new HostConnection(
      this.opts,
      (conn, bytes) => this.received(conn, bytes),
      (conn, command) => this.command(conn, command),
      this.secretLength,
      (conn, m) => this.answer(conn, m),
    );
    const id = this.opts.identity;
    c.sendOption("WILL", Option.VMWARE);
    const known = this.opts.known === undefined ? DEFAULT_KNOWN : this.opts.known;
    if (known) c.send({ kind: "known-suboptions-1", codes: known });
    if (this.opts.unprompted && handshake) {
      if (id.vcUuid) c.send({ kind: "vm-vc-uuid", value: id.vcUuid });
      if (id.name) c.send({ kind: "vm-name", value: id.name });
    }
    c.send({ kind: "do-proxy", direction: id.direction, serviceUri: id.serviceUri });
    return c;
  }

  private answer(c: HostConnection, m: VmwareMessage): void {
    const id = this.opts.identity;
    const reply = (value: string | undefined, kind: "vm-vc-uuid" | "vm-name" | "vm-bios-uuid" | "vm-location-uuid", code: number) =>
      c.send(value === undefined ? { kind: "unknown-suboption-rcvd-1", code } : { kind, value });
    switch (m.kind) {
      case "get-vm-vc-uuid":
        return reply(id.vcUuid, "vm-vc-uuid", VmwareCode.GET_VM_VC_UUID);
      case "get-vm-name":
        return reply(id.name, "vm-name", VmwareCode.GET_VM_NAME);
      case "get-vm-bios-uuid":
        return reply(id.biosUuid, "vm-bios-uuid", VmwareCode.GET_VM_BIOS_UUID);
      case "get-vm-location-uuid":
        return reply(id.locationUuid, "vm-location-uuid", VmwareCode.GET_VM_LOCATION_UUID);
    }
  }

  private command(conn: HostConnection, command: number): void {
    if (conn.frozenSource) this.lateOnSource += 2;
    if (command === Command.BRK) this.breaks.push(this.input.reduce((n, b) => n + b.length, 0));
    else this.otherCommands.push(command);
  }

  private received(conn: HostConnection, bytes: Uint8Array): void {
    if (conn.frozenSource) this.lateOnSource += bytes.length;
    this.input.push(bytes);
    this.inputReceiver?.(bytes);
    if (this.opts.echo) this.write(bytes);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function withDeadline<T>(p: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what}: not within ${ms} ms`)))]);
}
