// The SLP responder's sockets. Design, so a reply always leaves from the address the
// request arrived on (libslp adds the reply's source address to the PRList; a reply from
// another address of ours causes duplicate-reply storms):
//   - one UDP socket bound to each configured interface address, port 427 — unicast requests
//     arrive there and every reply (unicast or multicast) is sent from there;
//   - one UDP socket bound to 239.255.255.253:427 that joins the group on each configured
//     interface address only; a multicast request is answered from the configured address
//     whose subnet holds the requester;
//   - optionally a TCP listener per interface address for replies that overflow UDP.
// Several [[slp]] entries on one port share these sockets (see service.ts).
import type { Socket as TcpSocket, TCPSocketListener } from "bun";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import type { ServiceEntry } from "./entries.ts";
import { handleRequest, type Outcome, TCP_MAX_REPLY, UDP_MAX_REPLY } from "./handler.ts";
import { ByteRateCap, ReplyCache, SourceRateLimiter } from "./limits.ts";
import { type Allowlist, interfaceForSource, plainIPv4, SelfAddresses, SLP_MULTICAST_GROUP } from "./net.ts";

export { SLP_MULTICAST_GROUP };
import { PredicateCache } from "./predicate.ts";
import { functionName } from "./wire/index.ts";

/** Limits on the optional TCP listener (notes §4 item 9). */
export const TCP_LIMITS = { maxConnections: 32, idleSeconds: 5, maxRequestBytes: 4096 };

export interface RegistrationStats {
  requests: number;
  replies: number;
  drops: number;
  lastRequest?: Date;
}

/** What one [[slp]] entry contributes to a responder. */
export interface Registration {
  id: string;
  entries: ServiceEntry[];
  /** IPv4 addresses to serve on (already resolved; never empty). */
  interfaces: string[];
  allow: Allowlist;
  tcp: boolean;
  ratePerSource: number;
  rateBurst: number;
  replyBytesPerSecond: number;
  stats: RegistrationStats;
}

export interface ResponderOptions {
  port: number;
  logger: Logger;
  /** Join the multicast group (default true). */
  multicast?: boolean;
  /** How long replies are kept for retransmissions (default 15 s; 0 disables the cache). */
  replyCacheMs?: number;
  self?: SelfAddresses;
}

const requestsTotal = metrics.counter("esxkit_slp_requests_total", "SLP datagrams and TCP messages received, by function and how they arrived");
const repliesTotal = metrics.counter("esxkit_slp_replies_total", "SLP replies sent, by reply function");
const dropsTotal = metrics.counter("esxkit_slp_drops_total", "SLP requests dropped or refused without a reply, by reason");
const replyBytesTotal = metrics.counter("esxkit_slp_reply_bytes_total", "Bytes of SLP replies sent");

/** A bounded label: the RFC 2608 name, or "other" for any other byte. */
function fnLabel(fn: number | undefined): string {
  return fn !== undefined && fn >= 1 && fn <= 11 ? functionName(fn) : "other";
}

type UdpSocket = Bun.udp.Socket<"buffer">;

interface TcpConn {
  chunks: Buffer[];
  length: number;
  done: boolean;
  pending?: Uint8Array;
}

export class SlpResponder {
  readonly port: number;
  private readonly logger: Logger;
  private readonly multicast: boolean;
  private readonly self: SelfAddresses;
  private readonly regs = new Map<string, Registration>();
  private readonly unicast = new Map<string, UdpSocket>();
  private group: UdpSocket | undefined;
  private readonly joined = new Set<string>();
  private readonly tcp = new Map<string, TCPSocketListener<TcpConn>>();
  private tcpConnections = 0;
  private readonly predicates = new PredicateCache();
  private readonly cache: ReplyCache;
  private limiter = new SourceRateLimiter(10, 20);
  private byteCap = new ByteRateCap(262_144);
  private started = false;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(opts: ResponderOptions) {
    this.port = opts.port;
    this.logger = opts.logger;
    this.multicast = opts.multicast ?? true;
    this.cache = new ReplyCache(opts.replyCacheMs ?? 15_000);
    this.self = opts.self ?? new SelfAddresses(() => this.unicast.keys());
  }

  get registrations(): number {
    return this.regs.size;
  }

  /** Addresses with a bound unicast socket. */
  get addresses(): string[] {
    return [...this.unicast.keys()];
  }

  get memberships(): string[] {
    return [...this.joined];
  }

  async register(r: Registration): Promise<void> {
    this.regs.set(r.id, r);
    this.registrationsChanged();
    if (this.started) await this.reconcile();
  }

  async unregister(id: string): Promise<void> {
    this.regs.delete(id);
    this.registrationsChanged();
    if (this.started) await this.reconcile();
  }

  private registrationsChanged(): void {
    // A retransmission must not get a cached reply that names an entry stopped or reloaded since.
    this.cache.clear();
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
    const rs = [...this.regs.values()];
    if (rs.length === 0) return;
    const rate = Math.min(...rs.map((r) => r.ratePerSource));
    const burst = Math.min(...rs.map((r) => r.rateBurst));
    const bytes = Math.min(...rs.map((r) => r.replyBytesPerSecond));
    if (rate !== this.limiter.ratePerSecond || burst !== this.limiter.burst) this.limiter = new SourceRateLimiter(rate, burst);
    if (bytes !== this.byteCap.bytesPerSecond) this.byteCap = new ByteRateCap(bytes);
  }

  private reconcile(): Promise<void> {
    // A failed run (a port already taken) must not stop later ones from running.
    const run = this.reconciling.catch(() => {}).then(() => this.doReconcile());
    this.reconciling = run;
    return run;
  }

  private async doReconcile(): Promise<void> {
    const want = new Set<string>();
    const wantTcp = new Set<string>();
    if (this.started) {
      for (const r of this.regs.values()) {
        for (const a of r.interfaces) {
          want.add(a);
          if (r.tcp) wantTcp.add(a);
        }
      }
    }
    // Close what is no longer wanted.
    for (const [a, s] of this.unicast) {
      if (!want.has(a)) {
        s.close();
        this.unicast.delete(a);
      }
    }
    for (const a of [...this.joined]) {
      if (!want.has(a)) {
        try {
          this.group?.dropMembership(SLP_MULTICAST_GROUP, a);
        } catch {
          // The interface may be gone already.
        }
        this.joined.delete(a);
      }
    }
    if (want.size === 0 && this.group) {
      this.group.close();
      this.group = undefined;
    }
    for (const [a, l] of this.tcp) {
      if (!wantTcp.has(a)) {
        l.stop(true);
        this.tcp.delete(a);
      }
    }
    // Open what is missing.
    for (const a of want) {
      if (this.unicast.has(a)) continue;
      const s = await this.bindUdp(a, false);
      s.setTTL(64);
      this.unicast.set(a, s);
    }
    if (this.multicast && want.size > 0) {
      if (!this.group) {
        this.group = await this.bindUdp(SLP_MULTICAST_GROUP, true);
        // We never send to the group; loopback off and TTL 1 keep it that way if anything tried.
        this.group.setMulticastLoopback(false);
        this.group.setMulticastTTL(1);
      }
      for (const a of want) {
        if (this.joined.has(a)) continue;
        try {
          this.group.addMembership(SLP_MULTICAST_GROUP, a);
          this.joined.add(a);
        } catch (err) {
          this.logger.warn("cannot join the SLP multicast group; unicast only on this address", { address: a, err });
        }
      }
    }
    for (const a of wantTcp) {
      if (this.tcp.has(a)) continue;
      this.tcp.set(a, this.listenTcp(a));
    }
    this.self.invalidate();
  }

  private async bindUdp(hostname: string, viaGroup: boolean): Promise<UdpSocket> {
    try {
      return await Bun.udpSocket({
        hostname,
        port: this.port,
        binaryType: "buffer",
        socket: {
          data: (_s, data, port, address) => this.onDatagram(data, port, address, hostname, viaGroup),
          error: (_s, err) => this.logger.warn("SLP UDP socket error", { address: hostname, err }),
        },
      });
    } catch (err) {
      throw new Error(`SLP: cannot bind UDP ${hostname}:${this.port}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Registrations that serve `local` (over TCP: with tcp on) and allow `source`; `served` false when none serve `local`. */
  private visible(local: string, source: string, tcp = false): { regs: Registration[]; served: boolean } {
    const regs: Registration[] = [];
    let served = false;
    for (const r of this.regs.values()) {
      if (!r.interfaces.includes(local) || (tcp && !r.tcp)) continue;
      served = true;
      if (r.allow.allows(source)) regs.push(r);
    }
    return { regs, served };
  }

  private countDrop(reason: string, regs: readonly Registration[], detail?: string, fn?: number): void {
    dropsTotal.inc({ reason });
    for (const r of regs) r.stats.drops++;
    if (this.logger.enabled("debug")) this.logger.debug("SLP request dropped", { reason, function: fn === undefined ? undefined : functionName(fn), detail });
  }

  private onDatagram(data: Buffer, port: number, address: string, bound: string, viaGroup: boolean): void {
    const source = plainIPv4(address);
    let regs: Registration[] = [];
    try {
      let local = bound;
      if (viaGroup) {
        const candidates = [...this.joined];
        const chosen = interfaceForSource(source, candidates, this.self.all()) ?? (candidates.length === 1 ? candidates[0] : undefined);
        if (chosen === undefined) return this.countDrop("off-subnet", []);
        local = chosen;
      }
      const v = this.visible(local, source);
      regs = v.regs;
      if (regs.length === 0) return this.countDrop(v.served ? "not-allowed" : "no-service", []);
      if (!this.limiter.take(source)) return this.countDrop("rate-limited", regs);
      const now = new Date();
      for (const r of regs) {
        r.stats.requests++;
        r.stats.lastRequest = now;
      }
      requestsTotal.inc({ function: fnLabel(data[1]), transport: "udp", cast: viaGroup ? "multicast" : "unicast" });
      const out = this.unicast.get(local);
      if (!out) return this.countDrop("no-socket", regs);
      const xid = data.length >= 12 ? (data[10]! << 8) | data[11]! : -1;
      const cached = xid >= 0 ? this.cache.get(source, port, xid, data) : undefined;
      if (cached) return this.send(out, cached, port, source, regs, data[1]!);
      const entries = regs.length === 1 ? regs[0]!.entries : regs.flatMap((r) => r.entries);
      const outcome = handleRequest(
        data,
        { sourceAddress: source, localAddress: local, multicast: viaGroup, maxReplyBytes: UDP_MAX_REPLY },
        { entries, isSelf: (a) => this.self.has(a), predicates: this.predicates },
      );
      if (outcome.kind === "drop") return this.countDrop(outcome.reason, regs, outcome.detail, outcome.requestFunction);
      this.cache.put(source, port, outcome.xid, data, outcome.bytes);
      this.send(out, outcome.bytes, port, source, this.contributors(regs, outcome), outcome.replyFunction);
    } catch (err) {
      // Nothing a datagram contains may take the responder down.
      this.countDrop("internal-error", regs);
      this.logger.error("SLP request handler failed", { err, source });
    }
  }

  private contributors(regs: Registration[], outcome: Outcome & { kind: "reply" }): Registration[] {
    if (outcome.entries.length === 0 || regs.length === 1) return regs;
    return regs.filter((r) => r.entries.some((e) => outcome.entries.includes(e)));
  }

  private send(sock: UdpSocket, bytes: Uint8Array, port: number, address: string, regs: readonly Registration[], replyFn: number): void {
    if (!this.byteCap.take(bytes.length)) return this.countDrop("reply-cap", regs);
    if (!sock.send(bytes, port, address)) return this.countDrop("send-failed", regs);
    repliesTotal.inc({ function: functionName(replyFn) });
    replyBytesTotal.inc(undefined, bytes.length);
    for (const r of regs) r.stats.replies++;
  }

  // ---------------------------------------------------------------- TCP

  private listenTcp(address: string): TCPSocketListener<TcpConn> {
    const finish = (s: TcpSocket<TcpConn>) => {
      s.data.done = true;
      s.end();
    };
    return Bun.listen<TcpConn>({
      hostname: address,
      port: this.port,
      socket: {
        open: (s) => {
          s.data = { chunks: [], length: 0, done: false };
          this.tcpConnections++;
          if (this.tcpConnections > TCP_LIMITS.maxConnections) {
            this.countDrop("tcp-connections", []);
            s.data.done = true;
            s.terminate();
            return;
          }
          s.timeout(TCP_LIMITS.idleSeconds);
        },
        close: () => {
          this.tcpConnections--;
        },
        timeout: (s) => {
          if (!s.data.done) this.countDrop("tcp-idle", []);
          s.terminate();
        },
        error: (s, err) => {
          this.logger.debug("SLP TCP connection error", { err });
          s.terminate();
        },
        drain: (s) => {
          const p = s.data.pending;
          if (!p) return;
          const n = s.write(p);
          s.data.pending = n < p.length ? p.subarray(n) : undefined;
          if (!s.data.pending) s.end();
        },
        data: (s, chunk) => {
          const c = s.data;
          if (c.done) return;
          c.chunks.push(chunk);
          c.length += chunk.length;
          if (c.length < 5) return;
          const head = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
          const declared = (head[2]! << 16) | (head[3]! << 8) | head[4]!;
          if (head[0] !== 2 || declared > TCP_LIMITS.maxRequestBytes || declared < 14 || c.length > declared) {
            this.countDrop(head[0] !== 2 ? "version" : "tcp-framing", []);
            return finish(s);
          }
          if (c.length < declared) return;
          // One request per connection (the CVE-2020-3992 pattern was several on one).
          c.done = true;
          const reply = this.handleTcp(head, s.remoteAddress, address);
          if (!reply) return finish(s);
          const n = s.write(reply);
          if (n < reply.length) c.pending = reply.subarray(n);
          else s.end();
        },
      },
    });
  }

  private handleTcp(msg: Buffer, remote: string, local: string): Uint8Array | undefined {
    const source = plainIPv4(remote);
    let regs: Registration[] = [];
    try {
      const v = this.visible(local, source, true);
      regs = v.regs;
      if (regs.length === 0) return void this.countDrop(v.served ? "not-allowed" : "no-service", []);
      if (!this.limiter.take(source)) return void this.countDrop("rate-limited", regs);
      requestsTotal.inc({ function: fnLabel(msg[1]), transport: "tcp", cast: "unicast" });
      const now = new Date();
      for (const r of regs) {
        r.stats.requests++;
        r.stats.lastRequest = now;
      }
      const outcome = handleRequest(
        msg,
        { sourceAddress: source, localAddress: local, multicast: false, maxReplyBytes: TCP_MAX_REPLY },
        { entries: regs.flatMap((r) => r.entries), isSelf: (a) => this.self.has(a), predicates: this.predicates },
      );
      if (outcome.kind === "drop") return void this.countDrop(outcome.reason, regs, outcome.detail, outcome.requestFunction);
      if (!this.byteCap.take(outcome.bytes.length)) return void this.countDrop("reply-cap", regs);
      repliesTotal.inc({ function: functionName(outcome.replyFunction) });
      replyBytesTotal.inc(undefined, outcome.bytes.length);
      for (const r of this.contributors(regs, outcome)) r.stats.replies++;
      return outcome.bytes;
    } catch (err) {
      this.countDrop("internal-error", regs);
      this.logger.error("SLP TCP request handler failed", { err, source });
      return undefined;
    }
  }
}
