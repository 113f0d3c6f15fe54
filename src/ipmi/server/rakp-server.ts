// RMCP+ session establishment, BMC side: Open Session, RAKP1→RAKP2, RAKP3→RAKP4.
// Every failure is answered with its RMCP+ status code (never a silent drop), so a
// client with a wrong name, password or role fails at once instead of timing out.
// Failures are logged in aggregate (login-failures.ts): each one is a packet anyone can send.
// Session setup is rate limited (login-limits.ts): an Open Session that takes a slot costs
// its source a token; each further RAKP 2 code handed out in that session costs another,
// and every RAKP 2 code costs its user one. Over the limit: status 01h, insufficient resources.
import { PayloadType } from "../codes/auth-types.ts";
import type { CipherSuite } from "../codes/cipher-suites.ts";
import { PrivilegeLevel, privilegeName } from "../codes/privilege.ts";
import { RakpStatus, rakpStatusName } from "../codes/rakp-status.ts";
import { rakpAuth, random, userKey, type RakpContext } from "../crypto.ts";
import { sealRmcpPlusSessionless } from "../secure.ts";
import { equalBytes } from "../wire/bytes.ts";
import { openSessionRequest, openSessionResponse, type OpenSessionRequest } from "../wire/open-session.ts";
import { ROLE_NAME_ONLY_LOOKUP, rakp1, rakp2, rakp3, rakp4 } from "../wire/rakp.ts";
import { findUser, loginFailed, type EngineContext } from "./context.ts";
import type { LoginFailureReason } from "./login-failures.ts";
import { SessionTable, type RmcpPlusSessionState } from "./session-table.ts";
import type { IpmiSource, IpmiUser } from "./types.ts";

function sameSource(a: IpmiSource, b: IpmiSource): boolean {
  return a.address === b.address && a.port === b.port;
}

function matches(proposed: number | undefined, actual: number): boolean {
  return proposed === undefined || proposed === actual;
}

/** The best offered suite compatible with the proposal, or the status explaining why none is. */
export function chooseSuite(offered: CipherSuite[], req: OpenSessionRequest): CipherSuite | number {
  const hit = offered.find(
    (s) => matches(req.auth.algorithm, s.auth) && matches(req.integrity.algorithm, s.integrity) && matches(req.confidentiality.algorithm, s.confidentiality),
  );
  if (hit) return hit;
  const known = (pick: (s: CipherSuite) => number, alg: number | undefined) => alg === undefined || offered.some((s) => pick(s) === alg);
  if (!known((s) => s.auth, req.auth.algorithm)) return RakpStatus.invalidAuthenticationAlgorithm;
  if (!known((s) => s.integrity, req.integrity.algorithm)) return RakpStatus.invalidIntegrityAlgorithm;
  if (!known((s) => s.confidentiality, req.confidentiality.algorithm)) return RakpStatus.invalidConfidentialityAlgorithm;
  return RakpStatus.noCipherSuiteMatch;
}

export function handleOpenSession(ctx: EngineContext, payload: Uint8Array, source: IpmiSource): Uint8Array | undefined {
  const { opts, table } = ctx;
  const log = opts.logger;
  const req = openSessionRequest.decode(payload);
  const now = opts.now();
  const fail = (status: number, reason: LoginFailureReason = status === RakpStatus.insufficientResources ? "no_slot" : "protocol") => {
    loginFailed(ctx, reason, source);
    if (log.enabled("debug")) log.debug("RMCP+ open session refused", { client: `${source.address}:${source.port}`, status: rakpStatusName(status) });
    const body = openSessionResponse.encode({
      messageTag: req.messageTag,
      status,
      maxPrivilege: 0,
      remoteConsoleSessionId: req.remoteConsoleSessionId,
      managedSystemSessionId: 0,
      auth: 0,
      integrity: 0,
      confidentiality: 0,
    });
    return sealRmcpPlusSessionless(PayloadType.openSessionResponse, body);
  };

  // A retransmitted request (our response was lost) gets the same answer, not a second slot.
  for (const s of table.values()) {
    if (s.kind === "rmcp+" && s.state === "opened" && s.consoleId === req.remoteConsoleSessionId && sameSource(s.source, source) && s.openResponse) {
      s.lastActivity = now;
      return sealRmcpPlusSessionless(PayloadType.openSessionResponse, s.openResponse);
    }
  }

  if (req.remoteConsoleSessionId === 0) return fail(RakpStatus.invalidSessionId);
  if (req.requestedMaxPrivilege > PrivilegeLevel.oem) return fail(RakpStatus.invalidRole);
  const chosen = chooseSuite(opts.suites, req);
  if (typeof chosen === "number") return fail(chosen);
  // No user can hold OEM privilege here.
  if (req.requestedMaxPrivilege === PrivilegeLevel.oem) return fail(RakpStatus.unauthorizedRoleOrPrivilege);
  if (!ctx.limiter.sources.take(source.address, now)) return fail(RakpStatus.insufficientResources, "rate_limited");
  if (!table.makeRoom()) return fail(RakpStatus.insufficientResources);

  const maxPrivilege = req.requestedMaxPrivilege === 0 ? PrivilegeLevel.administrator : req.requestedMaxPrivilege;
  const id = table.newId();
  const body = openSessionResponse.encode({
    messageTag: req.messageTag,
    status: RakpStatus.noErrors,
    maxPrivilege,
    remoteConsoleSessionId: req.remoteConsoleSessionId,
    managedSystemSessionId: id,
    auth: chosen.auth,
    integrity: chosen.integrity,
    confidentiality: chosen.confidentiality,
  });
  const session: RmcpPlusSessionState = {
    ...SessionTable.base(id, source, now),
    kind: "rmcp+",
    state: "opened",
    consoleId: req.remoteConsoleSessionId,
    suite: chosen,
    openMaxPrivilege: maxPrivilege,
    openResponse: body,
  };
  table.add(session);
  log.debug("RMCP+ session opened", { client: `${source.address}:${source.port}`, session: id, suite: chosen.id });
  return sealRmcpPlusSessionless(PayloadType.openSessionResponse, body);
}

/** Role-based lookup: the named user (possibly the null user) holding at least the requested level. */
function lookupUser(ctx: EngineContext, name: Uint8Array, role: number): IpmiUser | undefined {
  const user = findUser(ctx.opts, name);
  if (!user) return undefined;
  if ((role & ROLE_NAME_ONLY_LOOKUP) === 0 && user.maxPrivilege < (role & 0x0f)) return undefined;
  return user;
}

export function handleRakp1(ctx: EngineContext, payload: Uint8Array, source: IpmiSource): Uint8Array | undefined {
  const { opts, table, stats } = ctx;
  const log = opts.logger;
  const m = rakp1.decode(payload);
  const now = opts.now();
  const s = table.get(m.managedSystemSessionId);
  const reply = (status: number, consoleId: number, extra?: { rc: Uint8Array; code: Uint8Array }) =>
    sealRmcpPlusSessionless(
      PayloadType.rakp2,
      rakp2.encode({
        messageTag: m.messageTag,
        status,
        remoteConsoleSessionId: consoleId,
        bmcRandom: extra?.rc ?? new Uint8Array(0),
        bmcGuid: opts.guid,
        keyExchangeAuthCode: extra?.code ?? new Uint8Array(0),
      }),
    );
  const fail = (status: number, reason: LoginFailureReason, consoleId: number, session?: RmcpPlusSessionState) => {
    const user = new TextDecoder().decode(m.username);
    loginFailed(ctx, reason, source, user);
    if (log.enabled("debug")) log.debug("RMCP+ authentication refused", { client: `${source.address}:${source.port}`, user, status: rakpStatusName(status) });
    if (session && table.delete(session.id)) stats.sessionsClosed++;
    return reply(status, consoleId);
  };

  if (!s || s.kind !== "rmcp+" || s.state === "active" || !sameSource(s.source, source)) return fail(RakpStatus.invalidSessionId, "protocol", 0);
  const level = m.role & 0x0f;
  if ((m.role & 0xe0) !== 0 || level < PrivilegeLevel.callback || level > PrivilegeLevel.oem) return fail(RakpStatus.invalidRole, "protocol", s.consoleId, s);
  const user = lookupUser(ctx, m.username, m.role);
  if (!user) {
    // Role-based lookup that found the name but not the role is a role problem.
    const byName = findUser(opts, m.username);
    return byName ? fail(RakpStatus.unauthorizedRoleOrPrivilege, "privilege", s.consoleId, s) : fail(RakpStatus.unauthorizedName, "unknown_user", s.consoleId, s);
  }
  if (level > user.maxPrivilege || level > s.openMaxPrivilege) {
    if (log.enabled("debug")) log.debug("RMCP+ role above the user's limit", { user: user.name, requested: privilegeName(level), limit: privilegeName(user.maxPrivilege) });
    return fail(RakpStatus.unauthorizedRoleOrPrivilege, "privilege", s.consoleId, s);
  }

  // A retransmitted RAKP 1 gets the same RAKP 2 again: nothing new is handed out, nothing is charged.
  const prior = s.rakp;
  const again = prior !== undefined && equalBytes(prior.consoleRandom, m.consoleRandom) && prior.role === m.role && equalBytes(prior.username, m.username);
  if (!again) {
    // The Open Session paid for the first code; any further one in this session costs the source again.
    const sourceOk = prior === undefined || ctx.limiter.sources.take(source.address, now);
    if (!sourceOk || !ctx.limiter.users.take(user.name, now)) return fail(RakpStatus.insufficientResources, "rate_limited", s.consoleId, s);
  }
  const rc = again ? prior.bmcRandom : random(16);
  const rakp: RakpContext = {
    consoleSessionId: s.consoleId,
    bmcSessionId: s.id,
    consoleRandom: m.consoleRandom,
    bmcRandom: rc,
    bmcGuid: opts.guid,
    role: m.role,
    username: m.username,
  };
  const code = rakpAuth(s.suite.auth).rakp2Code(userKey(user.password), rakp);
  s.rakp = rakp;
  s.user = user;
  s.state = "rakp2-sent";
  s.lastActivity = now;
  return reply(RakpStatus.noErrors, s.consoleId, { rc, code });
}

export function handleRakp3(ctx: EngineContext, payload: Uint8Array, source: IpmiSource): Uint8Array | undefined {
  const { opts, table, stats } = ctx;
  const log = opts.logger;
  const m = rakp3.decode(payload);
  const now = opts.now();
  const s = table.get(m.managedSystemSessionId);
  const reply = (status: number, consoleId: number, icv: Uint8Array = new Uint8Array(0)) =>
    sealRmcpPlusSessionless(PayloadType.rakp4, rakp4.encode({ messageTag: m.messageTag, status, remoteConsoleSessionId: consoleId, integrityCheckValue: icv }));

  if (!s || s.kind !== "rmcp+" || s.state === "opened" || !s.rakp || !s.user || !sameSource(s.source, source)) {
    loginFailed(ctx, "protocol", source);
    return reply(RakpStatus.invalidSessionId, 0);
  }
  if (m.status !== RakpStatus.noErrors) {
    // The console gave up: with 0Fh it could not verify our RAKP 2, i.e. its password is not ours.
    if (log.enabled("debug")) log.debug("RMCP+ console aborted the RAKP exchange", { client: `${source.address}:${source.port}`, status: rakpStatusName(m.status) });
    if (table.delete(s.id)) stats.sessionsClosed++;
    loginFailed(ctx, m.status === RakpStatus.invalidIntegrityCheckValue ? "wrong_password" : "protocol", source, s.user.name);
    return undefined;
  }
  const auth = rakpAuth(s.suite.auth);
  const kuid = userKey(s.user.password);
  if (auth.keyed) {
    const expected = auth.rakp3Code(kuid, s.rakp);
    if (!equalBytes(expected, m.keyExchangeAuthCode)) {
      loginFailed(ctx, "wrong_password", source, s.user.name);
      if (table.delete(s.id)) stats.sessionsClosed++;
      return reply(RakpStatus.invalidIntegrityCheckValue, s.consoleId);
    }
  } else if (m.keyExchangeAuthCode.length !== 0) {
    loginFailed(ctx, "wrong_password", source, s.user.name);
    if (table.delete(s.id)) stats.sessionsClosed++;
    return reply(RakpStatus.invalidIntegrityCheckValue, s.consoleId);
  }

  const firstTime = s.state !== "active";
  if (firstTime) {
    s.keys = auth.sessionKeys(kuid, s.rakp);
    const level = s.rakp.role & 0x0f;
    s.maxPrivilege = Math.min(level, s.user.maxPrivilege);
    // RMCP+ sessions start at the requested maximum privilege (IPMI v2.0 section 13.20).
    s.privilege = s.maxPrivilege;
    s.state = "active";
    s.openResponse = undefined;
    stats.sessionsOpened++;
    log.debug("RMCP+ session active", {
      client: `${source.address}:${source.port}`,
      session: s.id,
      user: s.user.name,
      suite: s.suite.id,
      privilege: privilegeName(s.privilege),
    });
  }
  s.lastActivity = now;
  const icv = s.keys ? auth.rakp4Icv(s.keys.sik, s.rakp) : new Uint8Array(0);
  return reply(RakpStatus.noErrors, s.consoleId, icv);
}
