// An IPMI v2.0 / RMCP+ ("lanplus") client: cipher suites 17 and 3 (17 → 3 fallback),
// retransmission, and a deadline on every call. Used for fencing and by `esxkit ipmi`.
import { DeadlineError, IpmiCompletionError } from "../../errors.ts";
import { silentLogger, type Logger } from "../../log/logger.ts";
import { PayloadType } from "../codes/auth-types.ts";
import type { CipherSuite } from "../codes/cipher-suites.ts";
import { AppCmd, ChassisCmd, ChassisControl } from "../codes/commands.ts";
import { completionCodeName } from "../codes/completion.ts";
import { NetFn } from "../codes/netfn.ts";
import { PrivilegeLevel } from "../codes/privilege.ts";
import { openRmcpPlus, sealRmcpPlus, type RmcpPlusSecurity } from "../secure.ts";
import { writeU32LE } from "../wire/bytes.ts";
import { BMC_SLAVE_ADDRESS, REMOTE_CONSOLE_SWID, ipmiRequestMessage, ipmiResponseMessage } from "../wire/message.ts";
import { packet } from "../wire/packet.ts";
import { parseChassisStatus, parseDeviceId, parseSystemGuid, type ChassisStatus, type DeviceId } from "./parse.ts";
import { establishSession, type EstablishedSession } from "./session.ts";
import { UdpTransport } from "./transport.ts";

export interface IpmiClientOptions {
  host: string;
  /** Default 623. */
  port?: number;
  username: string;
  password: string;
  /** BMC key Kg for two-key logins; default: none (Kg = the user's key). */
  kg?: string;
  /**
   * Cipher suites to try, in order. Default [17, 3]: suite 17, falling back to 3 when the
   * BMC does not offer or accept 17. Pass [3] or [17] to pin one.
   */
  cipherSuites?: number[];
  /** Session privilege: 2 user, 3 operator, 4 administrator (default). */
  privilege?: 2 | 3 | 4;
  /** Retransmit after this long without an answer. Default 1000 ms. */
  retransmitMs?: number;
  /** Bound on connecting (resolve + session setup). Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default bound on each command, retransmissions included. Default 5000 ms. */
  commandTimeoutMs?: number;
  logger?: Logger;
}

export interface RawResponse {
  cc: number;
  data: Uint8Array;
}

export type ChassisAction = "off" | "on" | "cycle" | "reset" | "diag" | "soft";

const CONTROL_CODES: Record<ChassisAction, number> = {
  off: ChassisControl.powerDown,
  on: ChassisControl.powerUp,
  cycle: ChassisControl.powerCycle,
  reset: ChassisControl.hardReset,
  diag: ChassisControl.diagnosticInterrupt,
  soft: ChassisControl.softShutdown,
};

export class IpmiClient {
  private outboundSeq = 0;
  private rqSeq = 0;
  /** Serialises calls: one request in flight per session. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly t: UdpTransport,
    private readonly session: EstablishedSession,
    private readonly o: Required<Pick<IpmiClientOptions, "retransmitMs" | "commandTimeoutMs">> & { logger: Logger },
  ) {}

  /** Resolves, opens an RMCP+ session and raises it to the requested privilege. */
  static async connect(opts: IpmiClientOptions): Promise<IpmiClient> {
    const retransmitMs = opts.retransmitMs ?? 1000;
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    const logger = opts.logger ?? silentLogger;
    const t = await UdpTransport.open(opts.host, opts.port ?? 623, deadline);
    try {
      const privilege = opts.privilege ?? PrivilegeLevel.administrator;
      const session = await establishSession(t, opts.cipherSuites ?? [17, 3], {
        username: opts.username,
        password: opts.password,
        kg: opts.kg,
        privilege,
        retransmitMs,
        deadline,
        logger,
      });
      const client = new IpmiClient(t, session, { retransmitMs, commandTimeoutMs: opts.commandTimeoutMs ?? 5000, logger });
      const r = await client.request(NetFn.app, AppCmd.setSessionPrivilegeLevel, new Uint8Array([privilege]), { timeoutMs: Math.max(1, deadline - Date.now()) });
      if (r.cc !== 0) throw new IpmiCompletionError(r.cc, `Set Session Privilege Level: ${completionCodeName(r.cc)}`);
      logger.debug("IPMI session established", { host: opts.host, suite: session.suite.id });
      return client;
    } catch (err) {
      await t.close();
      throw err;
    }
  }

  /** The negotiated cipher suite. */
  get cipherSuite(): CipherSuite {
    return this.session.suite;
  }

  get bmcGuid(): Uint8Array {
    return this.session.bmcGuid;
  }

  /** Sends one request; resolves with whatever completion code the BMC answered. */
  request(netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0), opts: { timeoutMs?: number } = {}): Promise<RawResponse> {
    const run = () => this.requestNow(netFn, cmd, data, opts.timeoutMs ?? this.o.commandTimeoutMs);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  private async requestNow(netFn: number, cmd: number, data: Uint8Array, timeoutMs: number): Promise<RawResponse> {
    if (this.closed) throw new DeadlineError("IPMI request on a closed session", 0);
    const s = this.session;
    const sec: RmcpPlusSecurity = { integrity: s.suite.integrity, confidentiality: s.suite.confidentiality, k1: s.keys.k1, k2: s.keys.k2 };
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const rqSeq = this.rqSeq;
    const message = ipmiRequestMessage.encode({ rsAddr: BMC_SLAVE_ADDRESS, netFn, rsLun: 0, rqAddr: REMOTE_CONSOLE_SWID, rqSeq, rqLun: 0, cmd, data });
    // A retransmission keeps rqSeq (so the BMC recognises the retry) under a new session
    // sequence number (so a strict replay window does not drop it).
    const build = () => {
      this.outboundSeq = (this.outboundSeq + 1) >>> 0 || 1;
      return sealRmcpPlus(PayloadType.ipmi, s.bmcId, this.outboundSeq, message, sec);
    };
    const r = await this.t.exchange(
      build,
      (d) => {
        let p;
        try {
          p = packet.decode(d);
        } catch {
          return undefined;
        }
        if (p.kind !== "rmcp+" || p.session.sessionId !== s.consoleId || p.session.payloadType !== PayloadType.ipmi) return undefined;
        let plain: Uint8Array;
        try {
          plain = openRmcpPlus(d, p.session, sec);
        } catch (err) {
          this.o.logger.debug("IPMI reply failed integrity or decryption", { err });
          return undefined;
        }
        const m = ipmiResponseMessage.decode(plain);
        if (m.rqSeq !== rqSeq || m.cmd !== cmd || m.netFn !== (netFn | 1)) return undefined;
        return m;
      },
      { retransmitMs: this.o.retransmitMs, deadline: Date.now() + timeoutMs, what: `IPMI command ${netFn.toString(16)}:${cmd.toString(16)}` },
    );
    return { cc: r.cc, data: r.data };
  }

  /** Like request(), but a non-zero completion code throws IpmiCompletionError. */
  async command(netFn: number, cmd: number, data?: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array> {
    const r = await this.request(netFn, cmd, data, opts);
    if (r.cc !== 0) {
      throw new IpmiCompletionError(r.cc, `IPMI command ${netFn.toString(16)}:${cmd.toString(16)}: ${completionCodeName(r.cc)} (0x${r.cc.toString(16)})`);
    }
    return r.data;
  }

  rawCommand(netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0), opts?: { timeoutMs?: number }): Promise<RawResponse> {
    return this.request(netFn, cmd, data, opts);
  }

  async chassisStatus(opts?: { timeoutMs?: number }): Promise<ChassisStatus> {
    return parseChassisStatus(await this.command(NetFn.chassis, ChassisCmd.getChassisStatus, undefined, opts));
  }

  async chassisControl(action: ChassisAction, opts?: { timeoutMs?: number }): Promise<void> {
    await this.command(NetFn.chassis, ChassisCmd.chassisControl, new Uint8Array([CONTROL_CODES[action]]), opts);
  }

  async getDeviceId(opts?: { timeoutMs?: number }): Promise<DeviceId> {
    return parseDeviceId(await this.command(NetFn.app, AppCmd.getDeviceId, undefined, opts));
  }

  /** Get System GUID (App 37h): the 16 bytes as the BMC sends them (byte order varies by vendor). */
  async getSystemGuid(opts?: { timeoutMs?: number }): Promise<Uint8Array> {
    return parseSystemGuid(await this.command(NetFn.app, AppCmd.getSystemGuid, undefined, opts));
  }

  /** Closes the session (best effort, bounded) and the socket. Never throws. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    try {
      const id = new Uint8Array(4);
      writeU32LE(id, 0, this.session.bmcId);
      await this.request(NetFn.app, AppCmd.closeSession, id, { timeoutMs });
    } catch (err) {
      this.o.logger.debug("IPMI Close Session got no answer", { err });
    } finally {
      this.closed = true;
      await this.t.close();
    }
  }
}

