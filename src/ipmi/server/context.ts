// Resolved engine options and the state shared by the engine's parts.
import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";
import { AuthType } from "../codes/auth-types.ts";
import { cipherSuiteById, type CipherSuite } from "../codes/cipher-suites.ts";
import { defaultRequiredPrivilege } from "../codes/privilege.ts";
import { isReadOnlyCommand } from "../codes/read-only.ts";
import { FAILURE_LOG_WINDOW_MS, type LoginFailure, type LoginFailureLog, type LoginFailureReason } from "./login-failures.ts";
import { DEFAULT_LOGIN_LIMITS, type LoginLimiter, type LoginLimits } from "./login-limits.ts";
import type { SessionTable } from "./session-table.ts";
import type { CommandHandler, EngineOptions, EngineStats, IpmiSource, IpmiUser, SolConsole } from "./types.ts";

export interface ResolvedOptions {
  users: IpmiUser[];
  guid: Uint8Array;
  /** Offered suites, best first, already filtered (suite 0 only with allowInsecureAuth). */
  suites: CipherSuite[];
  ipmi15: boolean;
  allowInsecureAuth: boolean;
  maxSessions: number;
  sessionTimeoutMs: number;
  channel: number;
  handler: CommandHandler;
  logger: Logger;
  requiredPrivilege: (netFn: number, cmd: number) => number;
  retryFromCache: (netFn: number, cmd: number) => boolean;
  loginLimits: LoginLimits;
  failureLogWindowMs: number;
  onLoginFailure?: (f: LoginFailure) => void;
  now: () => number;
  sol?: SolConsole;
}

export const DEFAULTS = {
  cipherSuites: [17, 3],
  maxSessions: 16,
  sessionTimeoutMs: 60_000,
  channel: 1,
} as const;

export function resolveOptions(o: EngineOptions): ResolvedOptions {
  if (o.guid.length !== 16) throw new RangeError(`IPMI engine: guid must be 16 bytes, got ${o.guid.length}`);
  const allowInsecureAuth = o.allowInsecureAuth ?? false;
  const suites: CipherSuite[] = [];
  for (const id of o.cipherSuites ?? DEFAULTS.cipherSuites) {
    const s = cipherSuiteById(id);
    if (!s) throw new RangeError(`IPMI engine: cipher suite ${id} is not supported (supported: 0-3, 15-17)`);
    if (id === 0 && !allowInsecureAuth) continue;
    if (!suites.includes(s)) suites.push(s);
  }
  for (const u of o.users) {
    if (new TextEncoder().encode(u.name).length > 16) throw new RangeError(`IPMI engine: user name "${u.name}" is longer than 16 bytes`);
    if (new TextEncoder().encode(u.password).length > 20) throw new RangeError(`IPMI engine: the password of user "${u.name}" is longer than 20 bytes`);
  }
  const channel = o.channel ?? DEFAULTS.channel;
  if (!Number.isInteger(channel) || channel < 1 || channel > 11) throw new RangeError(`IPMI engine: channel ${channel} is not 1..11`);
  return {
    users: o.users,
    guid: o.guid,
    suites,
    ipmi15: o.ipmi15 ?? false,
    allowInsecureAuth,
    maxSessions: Math.max(1, o.maxSessions ?? DEFAULTS.maxSessions),
    sessionTimeoutMs: o.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
    channel,
    handler: o.handler,
    logger: o.logger ?? silentLogger,
    requiredPrivilege: o.requiredPrivilege ?? defaultRequiredPrivilege,
    retryFromCache: o.retryFromCache ?? ((netFn, cmd) => !isReadOnlyCommand(netFn, cmd)),
    loginLimits: o.loginLimits ?? DEFAULT_LOGIN_LIMITS,
    failureLogWindowMs: o.failureLogWindowMs ?? FAILURE_LOG_WINDOW_MS,
    onLoginFailure: o.onLoginFailure,
    now: o.now ?? Date.now,
    sol: o.sol,
  };
}

/** IPMI 1.5 auth types the engine accepts. */
export function ipmi15AuthTypes(o: ResolvedOptions): number[] {
  if (!o.ipmi15) return [];
  return o.allowInsecureAuth ? [AuthType.md5, AuthType.straightPassword, AuthType.none] : [AuthType.md5];
}

export interface EngineContext {
  opts: ResolvedOptions;
  table: SessionTable;
  stats: EngineStats;
  limiter: LoginLimiter;
  failures: LoginFailureLog;
}

/** A refused session setup: counted, reported (metrics) and logged in aggregate. */
export function loginFailed(ctx: EngineContext, reason: LoginFailureReason, source: IpmiSource, user?: string): void {
  ctx.stats.authFailures++;
  const f: LoginFailure = { reason, source, user };
  ctx.opts.onLoginFailure?.(f);
  ctx.failures.record(f);
}

export function newStats(): EngineStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    dropped: 0,
    cacheHits: 0,
    authFailures: 0,
    sessionsOpened: 0,
    sessionsClosed: 0,
    sessionsExpired: 0,
    handlerCalls: 0,
    solActivations: 0,
    solRefused: 0,
    solDeactivations: 0,
    solBytesIn: 0,
    solBytesOut: 0,
    solPacketsIn: 0,
    solPacketsOut: 0,
    solRetransmits: 0,
    solGiveUps: 0,
    solOverrunBytes: 0,
    solBreaks: 0,
    solBreaksDropped: 0,
  };
}

const encoder = new TextEncoder();
export function nameBytes(name: string): Uint8Array {
  return encoder.encode(name);
}

/** The configured user whose name is exactly these bytes. */
export function findUser(o: ResolvedOptions, name: Uint8Array): IpmiUser | undefined {
  const decoded = new TextDecoder().decode(name);
  return o.users.find((u) => u.name === decoded && nameBytes(u.name).length === name.length);
}
