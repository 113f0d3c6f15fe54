// The SLP responder. Design, so a reply always leaves from the address the request arrived
// on (libslp adds the reply's source address to the PRList; a reply from another address of
// ours causes duplicate-reply storms):
//   - one UDP socket bound to each configured interface address, port 427 — unicast requests
//     arrive there and every reply (unicast or multicast) is sent from there;
//   - one UDP socket bound to 239.255.255.253:427 that joins the group on each configured
//     interface address only; a multicast request is answered from the configured address
//     whose subnet holds the requester;
//   - optionally a TCP listener per interface address for replies that overflow UDP.
// Several [[slp]] entries on one port share these sockets (see service.ts). The sockets live
// in udp-sockets.ts and tcp-listeners.ts, the entries in registrations.ts; this file keeps
// them in step and takes each request through admission, the handler and the limits.
import type { Logger } from "../log/logger.ts";
import { AnswerMemo } from "./answer-memo.ts";
import { handleRequest, type Outcome, TCP_MAX_REPLY, UDP_MAX_REPLY } from "./handler.ts";
import { ByteRateCap, ReplyCache, SourceRateLimiter } from "./limits.ts";
import { interfaceForSource, plainIPv4, SelfAddresses, SLP_MULTICAST_GROUP } from "./net.ts";
import { PredicateCache } from "./predicate.ts";
import { contributors, type Registration, RegistrationTable } from "./registrations.ts";
import { TcpListeners } from "./tcp-listeners.ts";
import { TrafficCounters } from "./traffic-counters.ts";
import { type UdpSocket, UdpSockets } from "./udp-sockets.ts";

export { SLP_MULTICAST_GROUP };
export { TCP_LIMITS } from "./tcp-listeners.ts";
export type { Registration, RegistrationStats } from "./registrations.ts";

export interface ResponderOptions {
  port: number;
  logger: Logger;
  /** Join the multicast group (default true). */
  multicast?: boolean;
  /** How long replies are kept for retransmissions (default 15 s; 0 disables the cache). */
  replyCacheMs?: number;
  self?: SelfAddresses;
}

export class SlpResponder {
  readonly port: number;
  private readonly logger: Logger;
  private readonly self: SelfAddresses;
  private readonly table = new RegistrationTable();
  private readonly udp: UdpSockets;
  private readonly tcp: TcpListeners;
  private readonly counters: TrafficCounters;
  private readonly predicates = new PredicateCache();
  private readonly cache: ReplyCache;
  private readonly memo = new AnswerMemo();
  private limiter = new SourceRateLimiter(10, 20);
  private byteCap = new ByteRateCap(262_144);
  private started = false;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(opts: ResponderOptions) {
    this.port = opts.port;
    this.logger = opts.logger;
    this.counters = new TrafficCounters(opts.logger);
    this.udp = new UdpSockets(opts.port, opts.multicast ?? true, opts.logger, (data, port, address, bound, viaGroup) =>
      this.onDatagram(data, port, address, bound, viaGroup),
    );
    this.tcp = new TcpListeners(opts.port, opts.logger, {
      onRequest: (msg, remote, local) => this.onTcpRequest(msg, remote, local),
      onDrop: (reason) => this.counters.drop(reason, []),
    });
    this.cache = new ReplyCache(opts.replyCacheMs ?? 15_000);
    this.self = opts.self ?? new SelfAddresses(() => this.udp.addressKeys());
  }

  get registrations(): number {
    return this.table.size;
  }

  /** Addresses with a bound unicast socket. */
  get addresses(): string[] {
    return [...this.udp.addressKeys()];
  }

  get memberships(): string[] {
    return this.udp.memberships;
  }

  async register(r: Registration): Promise<void> {
    this.table.set(r);
    this.registrationsChanged();
    if (this.started) await this.reconcile();
  }

  async unregister(id: string): Promise<void> {
    this.table.delete(id);
    this.registrationsChanged();
    if (this.started) await this.reconcile();
  }

  private registrationsChanged(): void {
    // A retransmission must not get a cached reply that names an entry stopped or reloaded since.
    this.cache.clear();
    this.memo.clear();
    this.applyLimits();
  }

  async start(): Promise<void> {
    this.started = true;
    await this.reconcile();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.reconcile();
  }

  /** The strictest limits any sharing entry asks for. */
  private applyLimits(): void {
    const l = this.table.strictestLimits();
    if (!l) return;
    if (l.ratePerSource !== this.limiter.ratePerSecond || l.rateBurst !== this.limiter.burst) this.limiter = new SourceRateLimiter(l.ratePerSource, l.rateBurst);
    if (l.replyBytesPerSecond !== this.byteCap.bytesPerSecond) this.byteCap = new ByteRateCap(l.replyBytesPerSecond);
  }

  private reconcile(): Promise<void> {
    // A failed run (a port already taken) must not stop later ones from running.
    const run = this.reconciling.catch(() => {}).then(() => this.doReconcile());
    this.reconciling = run;
    return run;
  }

  private async doReconcile(): Promise<void> {
    const want = this.started ? this.table.wantedAddresses() : { udp: new Set<string>(), tcp: new Set<string>() };
    // Close what is no longer wanted, then open what is missing.
    this.udp.closeUnwanted(want.udp);
    this.tcp.closeUnwanted(want.tcp);
    await this.udp.openMissing(want.udp);
    this.tcp.openMissing(want.tcp);
    this.self.invalidate();
  }

  /** The registrations a request may see, once it is within its source's rate; undefined (a drop, counted) otherwise. */
  private admit(local: string, source: string, tcp: boolean, fn: number | undefined, cast: "multicast" | "unicast"): readonly Registration[] | undefined {
    const v = this.table.visible(local, source, tcp);
    if (v.regs.length === 0) return void this.counters.drop(v.served ? "not-allowed" : "no-service", []);
    if (!this.limiter.take(source)) return void this.counters.drop("rate-limited", v.regs);
    this.counters.request(v.regs, fn, tcp ? "tcp" : "udp", cast);
    return v.regs;
  }

  /** Runs the handler over the entries of `regs`; a drop is counted and comes back undefined. */
  private answer(msg: Uint8Array, source: string, local: string, multicast: boolean, maxReplyBytes: number, regs: readonly Registration[]): (Outcome & { kind: "reply" }) | undefined {
    const entries = regs.length === 1 ? regs[0]!.entries : regs.flatMap((r) => r.entries);
    const outcome = handleRequest(
      msg,
      { sourceAddress: source, localAddress: local, multicast, maxReplyBytes },
      { entries, isSelf: (a) => this.self.has(a), predicates: this.predicates },
    );
    if (outcome.kind === "reply") return outcome;
    this.counters.drop(outcome.reason, regs, outcome.detail, outcome.requestFunction);
    return undefined;
  }

  private onDatagram(data: Buffer, port: number, address: string, bound: string, viaGroup: boolean): void {
    const source = plainIPv4(address);
    let regs: readonly Registration[] = [];
    try {
      let local = bound;
      if (viaGroup) {
        const candidates = this.udp.memberships;
        const chosen = interfaceForSource(source, candidates, this.self.all()) ?? (candidates.length === 1 ? candidates[0] : undefined);
        if (chosen === undefined) return this.counters.drop("off-subnet", []);
        local = chosen;
      }
      const admitted = this.admit(local, source, false, data[1], viaGroup ? "multicast" : "unicast");
      if (!admitted) return;
      regs = admitted;
      const out = this.udp.socketFor(local);
      if (!out) return this.counters.drop("no-socket", regs);
      const memoKey = this.memo.key(data);
      if (memoKey !== undefined) return this.answerByContent(out, memoKey, data, source, port, local, viaGroup, regs);
      const xid = data.length >= 12 ? (data[10]! << 8) | data[11]! : -1;
      const cached = xid >= 0 ? this.cache.get(source, port, xid, data) : undefined;
      if (cached) return this.send(out, cached, port, source, regs, data[1]!);
      const reply = this.answer(data, source, local, viaGroup, UDP_MAX_REPLY, regs);
      if (!reply) return;
      this.cache.put(source, port, reply.xid, data, reply.bytes);
      this.send(out, reply.bytes, port, source, contributors(regs, reply), reply.replyFunction);
    } catch (err) {
      // Nothing a datagram contains may take the responder down.
      this.counters.drop("internal-error", regs);
      this.logger.error("SLP request handler failed", { err, source });
    }
  }

  /** A request whose reply depends on its bytes alone: from the memo, or through the handler into it. */
  private answerByContent(out: UdpSocket, key: number, data: Buffer, source: string, port: number, local: string, viaGroup: boolean, regs: readonly Registration[]): void {
    const hit = this.memo.get(key, data, local, viaGroup, regs);
    if (hit) return this.send(out, hit.bytes, port, source, hit.contributors, hit.replyFunction);
    const reply = this.answer(data, source, local, viaGroup, UDP_MAX_REPLY, regs);
    if (!reply) return;
    const answer = { replyFunction: reply.replyFunction, contributors: contributors(regs, reply) };
    this.memo.put(key, data, local, viaGroup, regs, reply.bytes, answer);
    this.send(out, reply.bytes, port, source, answer.contributors, answer.replyFunction);
  }

  private send(sock: UdpSocket, bytes: Uint8Array, port: number, address: string, regs: readonly Registration[], replyFn: number): void {
    if (!this.byteCap.take(bytes.length)) return this.counters.drop("reply-cap", regs);
    let sent = false;
    try {
      sent = sock.send(bytes, port, address);
    } catch {
      // Bun throws what an earlier ICMP error left queued (ECONNREFUSED): a lost reply, not a handler failure.
    }
    if (!sent) return this.counters.drop("send-failed", regs);
    this.counters.reply(regs, replyFn, bytes.length);
  }

  private onTcpRequest(msg: Buffer, remote: string, local: string): Uint8Array | undefined {
    const source = plainIPv4(remote);
    let regs: readonly Registration[] = [];
    try {
      const admitted = this.admit(local, source, true, msg[1], "unicast");
      if (!admitted) return undefined;
      regs = admitted;
      const reply = this.answer(msg, source, local, false, TCP_MAX_REPLY, regs);
      if (!reply) return undefined;
      if (!this.byteCap.take(reply.bytes.length)) return void this.counters.drop("reply-cap", regs);
      this.counters.reply(contributors(regs, reply), reply.replyFunction, reply.bytes.length);
      return reply.bytes;
    } catch (err) {
      this.counters.drop("internal-error", regs);
      this.logger.error("SLP TCP request handler failed", { err, source });
      return undefined;
    }
  }
}
