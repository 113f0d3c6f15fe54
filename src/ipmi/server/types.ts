// Public types of the server-side IPMI session engine. The engine is transport-agnostic
// (datagram in, datagram out) and knows nothing of what a command does: the BMC layer
// supplies a CommandHandler for everything the engine does not answer itself.
import type { Logger } from "../../log/logger.ts";
import type { BytePort } from "../../net/byte-port.ts";
import type { LoginFailure } from "./login-failures.ts";
import type { LoginLimits } from "./login-limits.ts";

export type { LoginFailure, LoginFailureReason } from "./login-failures.ts";
export type { LoginLimits } from "./login-limits.ts";

/** 1 callback, 2 user, 3 operator, 4 administrator (IPMI privilege levels). */
export type Privilege = 1 | 2 | 3 | 4;

export interface IpmiUser {
  /** 0..16 ASCII bytes. An empty name is the "null user" (only if configured so). */
  name: string;
  /** Up to 20 bytes for RMCP+ (Kuid), 16 for IPMI 1.5. Never logged. */
  password: string;
  /** Highest privilege this user may hold: 2 user, 3 operator, 4 administrator. */
  maxPrivilege: 2 | 3 | 4;
}

export interface IpmiSource {
  address: string;
  port: number;
}

/**
 * The way back to the sender of one datagram, for what the engine sends unasked (SOL
 * output, retransmissions). Given by the transport (bindIpmiUdp) with each datagram.
 */
export interface ReturnPath {
  /** The local UDP port the datagram arrived on: Activate Payload reports it as the SOL port. */
  localPort: number;
  /** Sends a datagram to the sender. Never throws. */
  send(datagram: Uint8Array): void;
}

/** Serial-over-LAN console source (see EngineOptions.sol). */
export interface SolConsole {
  /** Opens the machine's serial console for one SOL activation; undefined = none now (activation refused). */
  open(): BytePort | undefined;
}

/** What engine.solStatus() reports. */
export interface SolStatus {
  active: boolean;
  /** The session holding the SOL payload. */
  sessionId?: number;
  user?: string;
  peer?: IpmiSource;
  /** Activation time (engine clock, ms). */
  since?: number;
  /** False once the serial port closed from the far side (SOL stays activated, status 0x10). */
  consoleOpen?: boolean;
  /** Keystrokes delivered to the serial port in this activation. */
  bytesIn: number;
  /** VM output the console acknowledged in this activation. */
  bytesOut: number;
}

/** What the session a request arrived in looks like (absent for sessionless requests). */
export interface IpmiSessionInfo {
  /** The BMC-side (managed system) session id. */
  id: number;
  user: string;
  /** "rmcp+" for IPMI 2.0 sessions, "ipmi15" for IPMI 1.5 (MD5/straight/none) sessions. */
  kind: "rmcp+" | "ipmi15";
  /** Negotiated cipher suite (rmcp+ only). */
  cipherSuite?: number;
  /** The session's privilege limit (min of requested role and the user's maxPrivilege). */
  maxPrivilege: number;
}

/** One IPMI request, already authenticated, decrypted, checksum-verified and privilege-checked. */
export interface IpmiRequest {
  netFn: number;
  cmd: number;
  data: Uint8Array;
  /** The responder LUN the request addressed (rsLUN), 0 normally. */
  lun: number;
  /** The session's current privilege level; 0 for a sessionless request. */
  privilege: number;
  session?: IpmiSessionInfo;
  source: IpmiSource;
  /** The LAN channel number the engine serves (EngineOptions.channel). */
  channel: number;
}

export interface IpmiResponse {
  /** Completion code (0x00 success). See src/ipmi/codes/completion.ts. */
  cc: number;
  /** Response data after the completion code. */
  data?: Uint8Array;
}

export type CommandHandler = (req: IpmiRequest) => Promise<IpmiResponse> | IpmiResponse;

export interface EngineOptions {
  users: IpmiUser[];
  /** 16 bytes, sent in RAKP2 (and what Get Device/System GUID should report). */
  guid: Uint8Array;
  /**
   * Cipher suites offered, best first, e.g. [17, 3]. Supported ids: 0 (only with
   * allowInsecureAuth), 1, 2, 3, 15, 16, 17. Default [17, 3].
   */
  cipherSuites?: number[];
  /** Accept IPMI 1.5 sessions with MD5 authentication (Get Session Challenge / Activate Session). Default false. */
  ipmi15?: boolean;
  /** Also accept RMCP+ suite 0 and IPMI 1.5 auth types "none" and "straight password". Default false. */
  allowInsecureAuth?: boolean;
  /** Session table cap (active + pending). Default 16. */
  maxSessions?: number;
  /** Idle timeout of an established session. Default 60 000 ms. */
  sessionTimeoutMs?: number;
  /** LAN channel number reported by Get Channel Auth Caps / Cipher Suites. Default 1. */
  channel?: number;
  /** Answers every command the engine does not handle itself. */
  handler: CommandHandler;
  logger?: Logger;
  /**
   * Privilege a command needs; consulted before the handler. Requests below it get 0xD4.
   * Default: defaultRequiredPrivilege from src/ipmi/codes/privilege.ts.
   */
  requiredPrivilege?: (netFn: number, cmd: number) => number;
  /**
   * Whether a client retry of this command is answered from the response cache instead of
   * being executed again. A retry comes under a new session sequence number within 5 s and
   * has the same command and data, and either the same rqSeq (ipmitool, pyghmi) or nothing
   * else in the session since the original (freeipmi gives each retransmission a new
   * rqSeq). Default: every command except reads (src/ipmi/codes/read-only.ts).
   * A byte-identical retransmission is always answered from the cache.
   */
  retryFromCache?: (netFn: number, cmd: number) => boolean;
  /**
   * Session-setup limits (Open Session and RAKP 1 → RAKP 2), per source address and per
   * user name. Default DEFAULT_LOGIN_LIMITS (src/ipmi/server/login-limits.ts).
   */
  loginLimits?: LoginLimits;
  /** Refused logins are logged at most once per this window, summed. Default 60 000 ms. */
  failureLogWindowMs?: number;
  /** Called for every refused session setup (metrics). */
  onLoginFailure?: (f: LoginFailure) => void;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Serial-over-LAN: opens the machine's serial console for one SOL session; undefined = no console (SOL activation refused with a clear ccode). */
  sol?: SolConsole;
}

/** Counters for metrics and tests. Monotonic since engine creation. */
export interface EngineStats {
  datagramsIn: number;
  datagramsOut: number;
  /** Datagrams dropped without a reply (malformed, bad integrity, unknown session …). */
  dropped: number;
  /** Requests answered from the response cache instead of the handler. */
  cacheHits: number;
  /** Session setups refused (RAKP / Activate Session failures). */
  authFailures: number;
  sessionsOpened: number;
  sessionsClosed: number;
  sessionsExpired: number;
  /** Handler invocations. */
  handlerCalls: number;
  /** SOL payload activations granted. */
  solActivations: number;
  /** SOL activations refused (already active, disabled, no console, encryption mismatch …). */
  solRefused: number;
  solDeactivations: number;
  /** Keystrokes delivered to serial ports. */
  solBytesIn: number;
  /** VM output bytes the console acknowledged. */
  solBytesOut: number;
  solPacketsIn: number;
  solPacketsOut: number;
  solRetransmits: number;
  /** BMC → console packets abandoned after every retry. */
  solGiveUps: number;
  /** VM output dropped because the console fell more than SOL_BUFFER_LIMIT behind. */
  solOverrunBytes: number;
  /** Break requests from consoles (Generate BREAK in a SOL packet). */
  solBreaks: number;
  /** Break requests the serial port did not take (gone, or it cannot carry a break). */
  solBreaksDropped: number;
}
