// The SOL payload of one engine (= one BMC): at most one activation, in one RMCP+ session,
// bound to one serial console port. Activate / Deactivate Payload, Get Payload Activation
// Status / Instance Info (IPMI v2.0 section 24) and the SOL configuration (section 26).
import type { BytePort } from "../../net/byte-port.ts";
import { PayloadType } from "../codes/auth-types.ts";
import { ConfAlg, IntegrityAlg } from "../codes/cipher-suites.ts";
import { CompletionCode } from "../codes/completion.ts";
import { privilegeName } from "../codes/privilege.ts";
import { ActivatePayloadCode, DeactivatePayloadCode, SOL_HEADER_LENGTH } from "../codes/sol.ts";
import { writeU16LE, writeU32LE } from "../wire/bytes.ts";
import { solPacket } from "../wire/sol.ts";
import type { EngineContext } from "./context.ts";
import type { RmcpPlusSecurity } from "../secure.ts";
import { sealInSession, sessionSecurity } from "./session-seal.ts";
import type { RmcpPlusSessionState, SessionState } from "./session-table.ts";
import { defaultSolSettings, getSolConfig, setSolConfig, type SolConfigView, type SolSettings } from "./sol-config.ts";
import { SolLink } from "./sol-link.ts";
import type { IpmiResponse, IpmiSource, ReturnPath, SolStatus } from "./types.ts";

/** The one SOL instance a BMC has (serial port 1). */
export const SOL_INSTANCE = 1;
/** Inbound and outbound payload size offered in Activate Payload: 4 header bytes + 251 characters. */
export const SOL_PAYLOAD_SIZE = SOL_HEADER_LENGTH + 251;
/** The port reported when the transport did not say (unit tests feeding datagrams by hand). */
const DEFAULT_PORT = 623;

interface Activation {
  session: RmcpPlusSessionState;
  user: string;
  peer: IpmiSource;
  since: number;
  port: BytePort;
  portOpen: boolean;
  link: SolLink;
  path: ReturnPath;
  /** How SOL packets are protected: the session's algorithms, less what activation left out. */
  sec: RmcpPlusSecurity;
  bytesIn: number;
  bytesOut: number;
}

export class SolService {
  readonly settings: SolSettings = defaultSolSettings();
  private progress = { state: 0 };
  private active?: Activation;

  constructor(
    private ctx: () => EngineContext,
    /** Drops expired sessions now (called when the console stops answering). */
    private sweep: () => void,
  ) {}

  /** `port`: where SOL runs for the asker, the port its request came in on. */
  private view(port = DEFAULT_PORT): SolConfigView {
    return { settings: this.settings, progress: this.progress, channel: this.ctx().opts.channel, available: this.available, port };
  }

  getConfig(data: Uint8Array, path: ReturnPath | undefined): IpmiResponse {
    return getSolConfig(this.view(path?.localPort), data);
  }

  setConfig(data: Uint8Array): IpmiResponse {
    const r = setSolConfig(this.view(), data);
    if (r.cc === CompletionCode.ok && !this.settings.enabled && this.active) this.end("SOL disabled", true);
    return r;
  }

  /** Whether the engine can serve SOL at all (a console source is configured). */
  get available(): boolean {
    return this.ctx().opts.sol !== undefined;
  }

  private refuse(cc: number, why: string, s: SessionState): IpmiResponse {
    this.ctx().stats.solRefused++;
    this.ctx().opts.logger.info("SOL activation refused", { reason: why, session: s.id, user: s.user?.name, client: `${s.source.address}:${s.source.port}` });
    return { cc };
  }

  /** Activate Payload (06:48): [type, instance, aux×4]. */
  activate(s: SessionState, data: Uint8Array, path: ReturnPath | undefined): IpmiResponse {
    if (data.length !== 6) return { cc: CompletionCode.requestDataLengthInvalid };
    const type = data[0]! & 0x3f;
    const instance = data[1]! & 0x0f;
    if (type !== PayloadType.sol) return { cc: CompletionCode.invalidDataField };
    if (instance !== SOL_INSTANCE) return { cc: CompletionCode.invalidDataField };
    const { opts } = this.ctx();
    if (!opts.sol) return this.refuse(ActivatePayloadCode.typeDisabled, "no serial console for this BMC", s);
    if (!this.settings.enabled) return this.refuse(ActivatePayloadCode.typeDisabled, "SOL disabled (SOL parameter 1)", s);
    if (s.kind !== "rmcp+" || !s.keys) return this.refuse(CompletionCode.notSupportedInPresentState, "SOL needs an RMCP+ session", s);
    if (s.privilege < this.settings.privilege) {
      return this.refuse(CompletionCode.insufficientPrivilege, `SOL needs ${privilegeName(this.settings.privilege)} privilege`, s);
    }
    if (this.active) return this.refuse(ActivatePayloadCode.alreadyActive, `SOL already active in session ${this.active.session.id}`, s);
    const wantsEncryption = (data[2]! & 0x80) !== 0;
    const wantsAuth = (data[2]! & 0x40) !== 0;
    // Encryption and authentication apply only as negotiated for the session (section 24.1);
    // encryption without authentication is refused, as are payloads SOL parameter 2 forbids.
    if (wantsEncryption && s.suite.confidentiality === ConfAlg.none) return this.refuse(ActivatePayloadCode.cannotWithEncryption, "encryption asked, none negotiated", s);
    if (wantsEncryption && !wantsAuth) return this.refuse(CompletionCode.invalidDataField, "encryption asked without authentication", s);
    if (!wantsEncryption && this.settings.forceEncryption) return this.refuse(ActivatePayloadCode.cannotWithoutEncryption, "SOL requires encryption", s);
    if (wantsAuth && s.suite.integrity === IntegrityAlg.none) return this.refuse(CompletionCode.invalidDataField, "authentication asked, none negotiated", s);
    if (!wantsAuth && this.settings.forceAuthentication) return this.refuse(CompletionCode.invalidDataField, "SOL requires authentication", s);
    const full = sessionSecurity(s)!;
    const sec: RmcpPlusSecurity = {
      ...full,
      integrity: wantsAuth ? full.integrity : IntegrityAlg.none,
      confidentiality: wantsEncryption ? full.confidentiality : ConfAlg.none,
    };
    if (!path) return this.refuse(CompletionCode.notSupportedInPresentState, "the transport cannot send unsolicited packets", s);

    let port: BytePort | undefined;
    try {
      port = opts.sol.open();
    } catch (err) {
      opts.logger.error("opening the serial console failed", { err });
    }
    if (!port) return this.refuse(ActivatePayloadCode.typeDisabled, "serial console unavailable", s);
    this.start(s, port, path, sec);

    const out = new Uint8Array(12);
    writeU16LE(out, 4, SOL_PAYLOAD_SIZE);
    writeU16LE(out, 6, SOL_PAYLOAD_SIZE);
    writeU16LE(out, 8, path.localPort);
    writeU16LE(out, 10, 0xffff);
    return { cc: CompletionCode.ok, data: out };
  }

  private start(s: RmcpPlusSessionState, port: BytePort, path: ReturnPath, sec: RmcpPlusSecurity): void {
    const ctx = this.ctx();
    const a: Activation = {
      session: s,
      user: s.user?.name ?? "",
      peer: { ...s.source },
      since: ctx.opts.now(),
      port,
      portOpen: true,
      path,
      sec,
      bytesIn: 0,
      bytesOut: 0,
      link: undefined as unknown as SolLink,
    };
    a.link = new SolLink({
      settings: () => this.settings,
      outboundPayloadSize: SOL_PAYLOAD_SIZE,
      send: (p) => {
        if (this.active !== a) return;
        try {
          path.send(sealInSession(s, PayloadType.sol, solPacket.encode(p), sec));
          this.ctx().stats.datagramsOut++;
        } catch (err) {
          this.ctx().opts.logger.debug("SOL packet not sent", { err });
        }
      },
      deliver: (bytes) => {
        let ok = false;
        try {
          ok = port.write(bytes);
        } catch (err) {
          this.ctx().opts.logger.warn("serial console write failed", { err });
        }
        if (ok) a.bytesIn += bytes.length;
        return ok;
      },
      deliverBreak: () => {
        try {
          return port.sendBreak?.() ?? false;
        } catch (err) {
          this.ctx().opts.logger.warn("serial console break failed", { err });
          return false;
        }
      },
      onGiveUp: () => this.sweep(),
      stats: ctx.stats,
      logger: ctx.opts.logger,
    });
    this.active = a;
    ctx.stats.solActivations++;
    port.onData((bytes) => {
      if (this.active === a) a.link.fromSystem(bytes);
    });
    port.onClose((reason) => {
      if (this.active !== a || !a.portOpen) return;
      a.portOpen = false;
      ctx.opts.logger.info("serial console closed under an active SOL session", { reason, session: s.id, user: a.user });
      a.link.portClosed();
    });
    ctx.opts.logger.info("SOL activated", { session: s.id, user: a.user, client: `${s.source.address}:${s.source.port}` });
  }

  /** Deactivate Payload (06:49): [type, instance, aux×4]. Any session with SOL privilege may (Ironic's pattern). */
  deactivate(s: SessionState, data: Uint8Array): IpmiResponse {
    if (data.length !== 6) return { cc: CompletionCode.requestDataLengthInvalid };
    const type = data[0]! & 0x3f;
    const instance = data[1]! & 0x0f;
    if (type !== PayloadType.sol || instance !== SOL_INSTANCE) return { cc: CompletionCode.invalidDataField };
    if (!this.available) return { cc: DeactivatePayloadCode.typeDisabled };
    if (s.privilege < this.settings.privilege) return { cc: CompletionCode.insufficientPrivilege };
    if (!this.active) return { cc: DeactivatePayloadCode.alreadyDeactivated };
    const other = this.active.session.id !== s.id;
    this.end(other ? `deactivated by session ${s.id}` : "deactivated", other);
    return { cc: CompletionCode.ok };
  }

  /** Get Payload Activation Status (06:4A): [type] → [capacity, instance bits ×2]. */
  activationStatus(data: Uint8Array): IpmiResponse {
    if (data.length !== 1) return { cc: CompletionCode.requestDataLengthInvalid };
    if ((data[0]! & 0x3f) !== PayloadType.sol) return { cc: CompletionCode.invalidDataField };
    return { cc: CompletionCode.ok, data: new Uint8Array([SOL_INSTANCE, this.active ? 0x01 : 0x00, 0x00]) };
  }

  /** Get Payload Instance Info (06:4B): [type, instance] → [session id ×4, serial port, 0×7]. */
  instanceInfo(data: Uint8Array): IpmiResponse {
    if (data.length !== 2) return { cc: CompletionCode.requestDataLengthInvalid };
    if ((data[0]! & 0x3f) !== PayloadType.sol || (data[1]! & 0x0f) !== SOL_INSTANCE) return { cc: CompletionCode.invalidDataField };
    const out = new Uint8Array(12);
    if (this.active) {
      writeU32LE(out, 0, this.active.session.id);
      out[4] = SOL_INSTANCE;
    }
    return { cc: CompletionCode.ok, data: out };
  }

  /**
   * A SOL packet in session `s` (already opened and integrity-checked). Returns the sealed
   * ACK to send back, "absorbed" for a good packet that needs none (an ACK), or undefined
   * to drop it (no SOL payload in this session).
   */
  fromConsole(s: RmcpPlusSessionState, plain: Uint8Array, replayed: boolean): Uint8Array | "absorbed" | undefined {
    const a = this.active;
    if (!a || a.session !== s) return undefined;
    const p = solPacket.decode(plain);
    const before = this.ctx().stats.solBytesOut;
    const ack = a.link.fromConsole(p, replayed);
    a.bytesOut += this.ctx().stats.solBytesOut - before;
    if (!ack) return replayed ? undefined : "absorbed";
    return sealInSession(s, PayloadType.sol, solPacket.encode(ack), a.sec);
  }

  /** How SOL packets of session `s` are protected; undefined when it holds no SOL payload. */
  securityFor(s: RmcpPlusSessionState): RmcpPlusSecurity | undefined {
    return this.active?.session === s ? this.active.sec : undefined;
  }

  /** A session left the table (closed, expired, evicted): its SOL payload goes with it. */
  sessionRemoved(s: SessionState): void {
    if (this.active && this.active.session === s) this.end("session closed", false);
  }

  /** Ends the activation; `notify` sends the console a last "SOL inactive" packet. */
  private end(reason: string, notify: boolean): void {
    const a = this.active;
    if (!a) return;
    if (notify) a.link.notifyDeactivated();
    this.active = undefined;
    a.link.stop();
    a.port.close(`SOL ${reason}`);
    const ctx = this.ctx();
    ctx.stats.solDeactivations++;
    ctx.opts.logger.info("SOL deactivated", { reason, session: a.session.id, user: a.user, keystrokes: a.bytesIn, output: a.bytesOut });
  }

  /** Ends any activation (engine stopping, console source removed). */
  stop(reason = "stopped"): void {
    this.end(reason, false);
  }

  status(): SolStatus {
    const a = this.active;
    if (!a) return { active: false, bytesIn: 0, bytesOut: 0 };
    return { active: true, sessionId: a.session.id, user: a.user, peer: { ...a.peer }, since: a.since, consoleOpen: a.portOpen, bytesIn: a.bytesIn, bytesOut: a.bytesOut };
  }
}
