// RMCP+ session establishment, BMC side: Open Session, RAKP1→RAKP2, RAKP3→RAKP4.
// Every failure is answered with its RMCP+ status code (never a silent drop), so a
// client with a wrong name, password or role fails at once instead of timing out.
import { PayloadType } from "../codes/auth-types.ts";
import type { CipherSuite } from "../codes/cipher-suites.ts";
import { PrivilegeLevel, privilegeName } from "../codes/privilege.ts";
import { RakpStatus, rakpStatusName } from "../codes/rakp-status.ts";
import { rakpAuth, random, userKey, type RakpContext } from "../crypto.ts";
import { sealRmcpPlusSessionless } from "../secure.ts";
import { equalBytes } from "../wire/bytes.ts";
import { openSessionRequest, openSessionResponse, type OpenSessionRequest } from "../wire/open-session.ts";
import { ROLE_NAME_ONLY_LOOKUP, rakp1, rakp2, rakp3, rakp4 } from "../wire/rakp.ts";
import { findUser, type EngineContext } from "./context.ts";
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
  const { opts, table, stats } = ctx;
  const log = opts.logger;
  const req = openSessionRequest.decode(payload);
  const now = opts.now();
  const fail = (status: number) => {
    stats.authFailures++;
    log.info("RMCP+ open session refused", { client: `${source.address}:${source.port}`, status: rakpStatusName(status) });
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
  const fail = (status: number, consoleId: number, session?: RmcpPlusSessionState) => {
    stats.authFailures++;
    const user = new TextDecoder().decode(m.username);
    log.warn("RMCP+ authentication refused", { client: `${source.address}:${source.port}`, user, status: rakpStatusName(status) });
    if (session && table.delete(session.id)) stats.sessionsClosed++;
    return reply(status, consoleId);
  };

  if (!s || s.kind !== "rmcp+" || s.state === "active" || !sameSource(s.source, source)) return fail(RakpStatus.invalidSessionId, 0);
  const level = m.role & 0x0f;
  if ((m.role & 0xe0) !== 0 || level < PrivilegeLevel.callback || level > PrivilegeLevel.oem) return fail(RakpStatus.invalidRole, s.consoleId, s);
  const user = lookupUser(ctx, m.username, m.role);
  if (!user) {
    // Role-based lookup that found the name but not the role is a role problem.
    const byName = findUser(opts, m.username);
    return fail(byName ? RakpStatus.unauthorizedRoleOrPrivilege : RakpStatus.unauthorizedName, s.consoleId, s);
  }
  if (level > user.maxPrivilege || level > s.openMaxPrivilege) {
    log.info("RMCP+ role above the user's limit", { user: user.name, requested: privilegeName(level), limit: privilegeName(user.maxPrivilege) });
    return fail(RakpStatus.unauthorizedRoleOrPrivilege, s.consoleId, s);
  }

  const rc = s.rakp && equalBytes(s.rakp.consoleRandom, m.consoleRandom) ? s.rakp.bmcRandom : random(16);
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
    stats.authFailures++;
    return reply(RakpStatus.invalidSessionId, 0);
  }
  if (m.status !== RakpStatus.noErrors) {
    // The console gave up (it could not verify RAKP2: usually a wrong password).
    log.info("RMCP+ console aborted the RAKP exchange", { client: `${source.address}:${source.port}`, status: rakpStatusName(m.status) });
    if (table.delete(s.id)) stats.sessionsClosed++;
    stats.authFailures++;
    return undefined;
  }
  const auth = rakpAuth(s.suite.auth);
  const kuid = userKey(s.user.password);
  if (auth.keyed) {
    const expected = auth.rakp3Code(kuid, s.rakp);
    if (!equalBytes(expected, m.keyExchangeAuthCode)) {
      stats.authFailures++;
      log.warn("RMCP+ authentication refused", { client: `${source.address}:${source.port}`, user: s.user.name, status: rakpStatusName(RakpStatus.invalidIntegrityCheckValue) });
      if (table.delete(s.id)) stats.sessionsClosed++;
      return reply(RakpStatus.invalidIntegrityCheckValue, s.consoleId);
    }
  } else if (m.keyExchangeAuthCode.length !== 0) {
    stats.authFailures++;
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
