// The server-side IPMI session engine: one datagram in, zero or one datagram out.
//
// Handled here, never passed to the CommandHandler:
//   RMCP/ASF presence ping → pong; App 06:38 Get Channel Authentication Capabilities;
//   06:39 Get Session Challenge, 06:3A Activate Session (IPMI 1.5, only with ipmi15);
//   06:3B Set Session Privilege Level; 06:3C Close Session; 06:54 Get Channel Cipher Suites;
//   RMCP+ Open Session and RAKP 1-4.
//   Serial-over-LAN: 06:48-4B payload commands, 06:4E/4F channel payload support/version,
//   0C:21/22 SOL configuration, and SOL packets (payload type 1) — see sol-service.ts.
// Everything else that arrives in an established session (or sessionless, for commands
// whose required privilege is 0) goes to opts.handler after the privilege check.
// The engine is transport-agnostic: a datagram comes with a ReturnPath for what it sends
// unasked (SOL). Idle sessions expire lazily; the only timers are an active SOL payload's
// (accumulate, retransmit) and the login-failure log's while a summary line is pending.
export type {
  CommandHandler,
  EngineOptions,
  EngineStats,
  IpmiRequest,
  IpmiResponse,
  IpmiSessionInfo,
  IpmiSource,
  IpmiUser,
  Privilege,
  ReturnPath,
  SolConsole,
  SolStatus,
} from "./types.ts";
import { AuthType, PayloadType } from "../codes/auth-types.ts";
import { AppCmd, TransportCmd } from "../codes/commands.ts";
import { CompletionCode } from "../codes/completion.ts";
import { NetFn } from "../codes/netfn.ts";
import { password16 } from "../crypto.ts";
import { openRmcpPlus, sealIpmi15, sealRmcpPlus, verifyIpmi15AuthCode } from "../secure.ts";
import { ASF_IANA, AsfMessageType, presencePong } from "../wire/asf.ts";
import { ipmiRequestMessage, ipmiResponseMessage, type IpmiRequestMessage } from "../wire/message.ts";
import { packet } from "../wire/packet.ts";
import { RmcpClass, RMCP_SEQ_NO_ACK, RMCP_VERSION_1 } from "../wire/rmcp.ts";
import type { Ipmi15Session } from "../wire/session15.ts";
import type { RmcpPlusSession } from "../wire/session20.ts";
import { getChannelAuthCapabilities, getChannelCipherSuites } from "./channel-commands.ts";
import { loginFailed, newStats, resolveOptions, type EngineContext } from "./context.ts";
import { LoginFailureLog } from "./login-failures.ts";
import { LoginLimiter } from "./login-limits.ts";
import { activateSession, getSessionChallenge } from "./ipmi15-server.ts";
import { handleOpenSession, handleRakp1, handleRakp3 } from "./rakp-server.ts";
import { getChannelPayloadSupport, getChannelPayloadVersion } from "./payload-commands.ts";
import { closeSession, setSessionPrivilegeLevel } from "./session-commands.ts";
import { sealInSession, sessionSecurity } from "./session-seal.ts";
import { SolService } from "./sol-service.ts";
import { SessionTable, type Ipmi15SessionState, type RmcpPlusSessionState, type SessionState } from "./session-table.ts";
import type { EngineOptions, EngineStats, IpmiRequest, IpmiResponse, IpmiSource, ReturnPath, SolStatus } from "./types.ts";

/** How a reply must be framed: like the request it answers. */
type Framing = { kind: "rmcp+"; session?: RmcpPlusSessionState } | { kind: "ipmi15"; session?: Ipmi15SessionState };

const SWEEP_INTERVAL_MS = 1000;
/** A datagram that was good and wants no reply (a SOL ACK from the console): not a drop. */
const ABSORBED = Symbol("absorbed");

export class IpmiSessionEngine {
  private ctx: EngineContext;
  private raw: EngineOptions;
  private lastSweep = 0;
  private sol: SolService;

  constructor(opts: EngineOptions) {
    this.raw = { ...opts };
    const resolved = resolveOptions(opts);
    this.sol = new SolService(
      () => this.ctx,
      () => this.sweep(this.ctx.opts.now(), true),
    );
    this.ctx = {
      opts: resolved,
      table: new SessionTable(resolved.maxSessions, resolved.sessionTimeoutMs, (s) => this.sol.sessionRemoved(s)),
      stats: newStats(),
      limiter: new LoginLimiter(resolved.loginLimits),
      failures: new LoginFailureLog(() => this.ctx.opts.logger, () => this.ctx.opts.failureLogWindowMs, () => this.ctx.opts.now()),
    };
  }

  /** One datagram in → the reply datagram, or undefined to stay silent. Never throws. */
  async handleDatagram(buf: Uint8Array, source: IpmiSource, path?: ReturnPath): Promise<Uint8Array | undefined> {
    const { stats, opts } = this.ctx;
    stats.datagramsIn++;
    try {
      const out = await this.route(buf, source, path);
      if (out === ABSORBED) return undefined;
      if (out) stats.datagramsOut++;
      else stats.dropped++;
      return out;
    } catch (err) {
      stats.dropped++;
      if (opts.logger.enabled("debug")) {
        opts.logger.debug("IPMI datagram dropped", { client: `${source.address}:${source.port}`, err });
      }
      return undefined;
    }
  }

  /** Sessions in the table (pending + active), after expiring idle ones. */
  sessionCount(): number {
    this.sweep(this.ctx.opts.now(), true);
    return this.ctx.table.size;
  }

  /** Active (authenticated) sessions only. */
  activeSessionCount(): number {
    this.sweep(this.ctx.opts.now(), true);
    let n = 0;
    for (const s of this.ctx.table.values()) if (s.state === "active") n++;
    return n;
  }

  /** Drop every session (BMC removed or disabled); an active SOL payload ends with its session. */
  closeAll(): void {
    this.ctx.stats.sessionsClosed += this.ctx.table.size;
    this.ctx.table.clear();
    this.sol.stop("engine closed all sessions");
    this.ctx.failures.flush();
  }

  /** Stops the engine: every session closed, SOL ended, no timer left. handleDatagram still answers afterwards. */
  stop(): void {
    this.closeAll();
  }

  /** The SOL payload: who holds it, since when, how many bytes each way. */
  solStatus(): SolStatus {
    return this.sol.status();
  }

  /**
   * Change options in place (config reload). Sessions whose user was removed, or whose
   * password or privilege limit changed, are closed; the others keep running.
   */
  updateOptions(partial: Partial<EngineOptions>): void {
    const next = { ...this.raw, ...partial };
    const resolved = resolveOptions(next);
    this.raw = next;
    if (JSON.stringify(resolved.loginLimits) !== JSON.stringify(this.ctx.opts.loginLimits)) this.ctx.limiter = new LoginLimiter(resolved.loginLimits);
    this.ctx.opts = resolved;
    if (!resolved.sol) this.sol.stop("serial console removed");
    const table = this.ctx.table;
    table.maxSessions = resolved.maxSessions;
    table.idleTimeoutMs = resolved.sessionTimeoutMs;
    for (const s of [...table.values()]) {
      const u = s.user;
      const still = u && resolved.users.find((n) => n.name === u.name && n.password === u.password && n.maxPrivilege === u.maxPrivilege);
      const kindAllowed = s.kind === "rmcp+" ? resolved.suites.some((x) => x.id === s.suite.id) : resolved.ipmi15;
      if (!still || !kindAllowed) {
        table.delete(s.id);
        this.ctx.stats.sessionsClosed++;
      } else {
        s.user = still;
      }
    }
  }

  stats(): EngineStats {
    return { ...this.ctx.stats };
  }

  // ------------------------------------------------------------------ routing

  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    const n = this.ctx.table.expire(now, (s) => {
      // RAKP 2 went out and nothing came back: a client that found our code wrong for its password.
      if (s.kind === "rmcp+" && s.state === "rakp2-sent") loginFailed(this.ctx, "abandoned", s.source, s.user?.name);
    });
    if (n > 0) {
      this.ctx.stats.sessionsExpired += n;
      this.ctx.opts.logger.debug("idle IPMI sessions expired", { count: n });
    }
  }

  private async route(buf: Uint8Array, source: IpmiSource, path: ReturnPath | undefined): Promise<Uint8Array | typeof ABSORBED | undefined> {
    const now = this.ctx.opts.now();
    this.sweep(now);
    const p = packet.decode(buf);
    if (p.kind === "asf") {
      if (p.asf.iana !== ASF_IANA || p.asf.messageType !== AsfMessageType.presencePing) return undefined;
      return this.pong(p.asf.messageTag);
    }
    if (p.kind === "ipmi15") return this.routeIpmi15(p.session, source, now);
    return this.routeRmcpPlus(buf, p.session, source, now, path);
  }

  private pong(tag: number): Uint8Array {
    const data = presencePong.encode({ iana: ASF_IANA, oemDefined: 0, supportedEntities: 0x81, supportedInteractions: 0 });
    return packet.encode({
      kind: "asf",
      rmcp: { version: RMCP_VERSION_1, sequence: RMCP_SEQ_NO_ACK, messageClass: RmcpClass.asf, ack: false },
      asf: { iana: ASF_IANA, messageType: AsfMessageType.presencePong, messageTag: tag, data },
    });
  }

  private async routeRmcpPlus(
    buf: Uint8Array,
    pkt: RmcpPlusSession,
    source: IpmiSource,
    now: number,
    path: ReturnPath | undefined,
  ): Promise<Uint8Array | typeof ABSORBED | undefined> {
    if (pkt.sessionId === 0) {
      if (pkt.authenticated || pkt.encrypted) return undefined;
      switch (pkt.payloadType) {
        case PayloadType.openSessionRequest:
          return handleOpenSession(this.ctx, pkt.payload, source);
        case PayloadType.rakp1:
          return handleRakp1(this.ctx, pkt.payload, source);
        case PayloadType.rakp3:
          return handleRakp3(this.ctx, pkt.payload, source);
        case PayloadType.ipmi: {
          const msg = ipmiRequestMessage.decode(pkt.payload);
          const resp = await this.execute(msg, source, undefined);
          return this.seal(msg, resp, { kind: "rmcp+" });
        }
        default:
          return undefined;
      }
    }
    const s = this.ctx.table.get(pkt.sessionId);
    if (!s || s.kind !== "rmcp+" || s.state !== "active" || !s.keys) return undefined;
    if (s.source.address !== source.address || s.source.port !== source.port) return undefined;
    if (pkt.payloadType !== PayloadType.ipmi && pkt.payloadType !== PayloadType.sol) return undefined;
    if (pkt.payloadType === PayloadType.sol) {
      const solSec = this.sol.securityFor(s);
      if (!solSec) return undefined;
      const plain = openRmcpPlus(buf, pkt, solSec);
      const verdict = s.window.check(pkt.sequence);
      if (verdict === "outside") return undefined;
      if (verdict !== "duplicate") {
        s.window.accept(pkt.sequence);
        s.lastActivity = now;
      }
      const r = this.sol.fromConsole(s, plain, verdict === "duplicate");
      return r === "absorbed" ? ABSORBED : r;
    }
    const plain = openRmcpPlus(buf, pkt, sessionSecurity(s)!);
    return this.inSession(s, pkt.sequence, plain, source, now, { kind: "rmcp+", session: s }, path);
  }

  private async routeIpmi15(pkt: Ipmi15Session, source: IpmiSource, now: number): Promise<Uint8Array | undefined> {
    if (pkt.sessionId === 0) {
      if (pkt.authType !== AuthType.none) return undefined;
      const msg = ipmiRequestMessage.decode(pkt.payload);
      let resp: IpmiResponse;
      if (msg.netFn === NetFn.app && msg.cmd === AppCmd.getSessionChallenge) resp = getSessionChallenge(this.ctx, msg.data, source);
      else resp = await this.execute(msg, source, undefined);
      return this.seal(msg, resp, { kind: "ipmi15" });
    }
    const s = this.ctx.table.get(pkt.sessionId);
    if (!s || s.kind !== "ipmi15" || !s.pw16) return undefined;
    if (s.source.address !== source.address || s.source.port !== source.port) return undefined;
    if (pkt.authType !== s.authType) return undefined;
    if (!verifyIpmi15AuthCode(s.authType, s.pw16, pkt.sessionId, pkt.sequence, pkt.payload, pkt.authCode)) {
      if (s.state === "challenge") {
        // A wrong password shows here: the Activate Session auth code does not verify.
        loginFailed(this.ctx, "wrong_password", source, s.user?.name);
        if (this.ctx.table.delete(s.id)) this.ctx.stats.sessionsClosed++;
      }
      return undefined;
    }
    if (s.state === "challenge") {
      const msg = ipmiRequestMessage.decode(pkt.payload);
      if (msg.netFn !== NetFn.app || msg.cmd !== AppCmd.activateSession || pkt.sequence !== 0) return undefined;
      const resp = activateSession(this.ctx, s, msg.data);
      return this.seal(msg, resp, { kind: "ipmi15", session: s });
    }
    return this.inSession(s, pkt.sequence, pkt.payload, source, now, { kind: "ipmi15", session: s }, undefined);
  }

  /** The common path of an authenticated in-session request: replay window, cache, dispatch. */
  private async inSession(
    s: SessionState,
    seq: number,
    plain: Uint8Array,
    source: IpmiSource,
    now: number,
    framing: Framing,
    path: ReturnPath | undefined,
  ): Promise<Uint8Array | undefined> {
    const verdict = s.window.check(seq);
    if (verdict === "outside") return undefined;
    if (verdict === "duplicate") {
      // A retransmission (or replay) of a packet we already executed: answer it again from
      // the cache, never run it twice.
      const hit = s.cache.bySequence(seq);
      if (!hit) return undefined;
      this.ctx.stats.cacheHits++;
      return this.seal(hit.request, await hit.response, framing);
    }
    s.window.accept(seq);
    s.lastActivity = now;
    const msg = ipmiRequestMessage.decode(plain);
    const prior = this.ctx.opts.retryFromCache(msg.netFn, msg.cmd) ? s.cache.retryOf(msg, now) : undefined;
    if (prior) {
      this.ctx.stats.cacheHits++;
      s.cache.add(seq, msg, now, prior.response);
      return this.seal(msg, await prior.response, framing);
    }
    if (msg.netFn === NetFn.app && msg.cmd === AppCmd.closeSession) {
      const { response, closesSelf } = closeSession(this.ctx, s, msg.data);
      const out = this.seal(msg, response, framing);
      if (closesSelf && this.ctx.table.delete(s.id)) {
        this.ctx.stats.sessionsClosed++;
        this.ctx.opts.logger.debug("IPMI session closed", { client: `${source.address}:${source.port}`, session: s.id, user: s.user?.name });
      }
      return out;
    }
    const pending = this.execute(msg, source, s, path);
    s.cache.add(seq, msg, now, pending);
    return this.seal(msg, await pending, framing);
  }

  /** Runs one request: engine-handled commands, privilege check, then the handler. Never rejects. */
  private async execute(msg: IpmiRequestMessage, source: IpmiSource, s: SessionState | undefined, path?: ReturnPath): Promise<IpmiResponse> {
    const { opts, stats } = this.ctx;
    if ((msg.netFn & 1) === 1) return { cc: CompletionCode.invalidCommand };
    if (msg.netFn === NetFn.app) {
      switch (msg.cmd) {
        case AppCmd.getChannelAuthCapabilities:
          return getChannelAuthCapabilities(opts, msg.data);
        case AppCmd.getChannelCipherSuites:
          return getChannelCipherSuites(opts, msg.data);
        case AppCmd.getSessionChallenge:
        case AppCmd.activateSession:
          return { cc: CompletionCode.notSupportedInPresentState };
        case AppCmd.setSessionPrivilegeLevel:
        case AppCmd.closeSession:
          if (!s) return { cc: CompletionCode.insufficientPrivilege };
          if (msg.cmd === AppCmd.setSessionPrivilegeLevel) return setSessionPrivilegeLevel(this.ctx, s, msg.data);
          break;
      }
    }
    const current = s ? s.privilege : 0;
    if (opts.requiredPrivilege(msg.netFn, msg.cmd) > current) return { cc: CompletionCode.insufficientPrivilege };
    if (s) {
      const sol = this.solCommand(msg, s, path);
      if (sol) return sol;
    }
    const req: IpmiRequest = { netFn: msg.netFn, cmd: msg.cmd, data: msg.data, lun: msg.rsLun, privilege: current, source, channel: opts.channel };
    if (s && s.user) {
      req.session = { id: s.id, user: s.user.name, kind: s.kind, maxPrivilege: s.maxPrivilege };
      if (s.kind === "rmcp+") req.session.cipherSuite = s.suite.id;
    }
    stats.handlerCalls++;
    try {
      const r = await opts.handler(req);
      if (!r || !Number.isInteger(r.cc) || r.cc < 0 || r.cc > 0xff) throw new TypeError("handler returned no valid completion code");
      return r;
    } catch (err) {
      opts.logger.error("IPMI command handler failed", { netFn: msg.netFn, cmd: msg.cmd, err });
      return { cc: CompletionCode.unspecified };
    }
  }

  /** The SOL and payload commands the engine answers itself (in a session, privilege checked). */
  private solCommand(msg: IpmiRequestMessage, s: SessionState, path: ReturnPath | undefined): IpmiResponse | undefined {
    const { opts } = this.ctx;
    if (msg.netFn === NetFn.app) {
      switch (msg.cmd) {
        case AppCmd.activatePayload:
          return this.sol.activate(s, msg.data, path);
        case AppCmd.deactivatePayload:
          return this.sol.deactivate(s, msg.data);
        case AppCmd.getPayloadActivationStatus:
          return this.sol.activationStatus(msg.data);
        case AppCmd.getPayloadInstanceInfo:
          return this.sol.instanceInfo(msg.data);
        case AppCmd.getChannelPayloadSupport:
          return getChannelPayloadSupport(opts, msg.data);
        case AppCmd.getChannelPayloadVersion:
          return getChannelPayloadVersion(opts, msg.data);
      }
    }
    if (msg.netFn === NetFn.transport) {
      if (msg.cmd === TransportCmd.getSolConfigParams) return this.sol.getConfig(msg.data, path);
      if (msg.cmd === TransportCmd.setSolConfigParams) return this.sol.setConfig(msg.data);
    }
    return undefined;
  }

  /** Builds the reply datagram in the framing of the request. */
  private seal(req: IpmiRequestMessage, resp: IpmiResponse, framing: Framing): Uint8Array {
    const message = ipmiResponseMessage.encode({
      rqAddr: req.rqAddr,
      netFn: req.netFn | 1,
      rqLun: req.rqLun,
      rsAddr: req.rsAddr,
      rqSeq: req.rqSeq,
      rsLun: req.rsLun,
      cmd: req.cmd,
      cc: resp.cc,
      data: resp.data ?? new Uint8Array(0),
    });
    if (framing.kind === "rmcp+") {
      const s = framing.session;
      // Sessionless (or not yet keyed) replies go out unprotected; sealInSession knows the latter.
      if (!s) return sealRmcpPlus(PayloadType.ipmi, 0, 0, message);
      return sealInSession(s, PayloadType.ipmi, message);
    }
    const s = framing.session;
    if (!s) return sealIpmi15(AuthType.none, 0, 0, message);
    s.outboundSeq = (s.outboundSeq + 1) >>> 0;
    return sealIpmi15(s.authType, s.id, s.outboundSeq, message, s.pw16 ?? password16(""));
  }
}
