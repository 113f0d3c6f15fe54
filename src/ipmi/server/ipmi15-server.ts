// IPMI 1.5 session establishment, BMC side: Get Session Challenge (06:39) and Activate
// Session (06:3A), with MD5 (or, only when allowed, none / straight password) auth.
import { AuthType } from "../codes/auth-types.ts";
import { CompletionCode, SessionCompletionCode } from "../codes/completion.ts";
import { PrivilegeLevel, privilegeName } from "../codes/privilege.ts";
import { password16, random } from "../crypto.ts";
import { equalBytes, readU32LE, writeU32LE } from "../wire/bytes.ts";
import { findUser, ipmi15AuthTypes, loginFailed, type EngineContext } from "./context.ts";
import { SequenceWindow } from "./sequence-window.ts";
import { SessionTable, type Ipmi15SessionState } from "./session-table.ts";
import type { IpmiResponse, IpmiSource } from "./types.ts";

export function getSessionChallenge(ctx: EngineContext, data: Uint8Array, source: IpmiSource): IpmiResponse {
  const { opts, table } = ctx;
  if (!opts.ipmi15) return { cc: CompletionCode.invalidCommand };
  if (data.length !== 17) return { cc: CompletionCode.requestDataLengthInvalid };
  const authType = data[0]! & 0x0f;
  if (!ipmi15AuthTypes(opts).includes(authType)) return { cc: CompletionCode.invalidDataField };
  const raw = data.subarray(1, 17);
  const nul = raw.indexOf(0);
  const name = raw.subarray(0, nul < 0 ? 16 : nul);
  const user = findUser(opts, name);
  if (!user) {
    loginFailed(ctx, "unknown_user", source, new TextDecoder().decode(name));
    return { cc: name.length === 0 ? SessionCompletionCode.nullUserNotEnabled : SessionCompletionCode.invalidUserName };
  }
  if (!table.makeRoom()) return { cc: CompletionCode.nodeBusy };
  const now = opts.now();
  const id = table.newId();
  const challenge = random(16);
  const s: Ipmi15SessionState = {
    ...SessionTable.base(id, source, now),
    kind: "ipmi15",
    state: "challenge",
    authType,
    challenge,
    user,
    pw16: password16(user.password),
  };
  table.add(s);
  const out = new Uint8Array(20);
  writeU32LE(out, 0, id);
  out.set(challenge, 4);
  return { cc: CompletionCode.ok, data: out };
}

/**
 * Activate Session. The packet's auth code was already verified against the pending
 * session's password (that is what proves the user knows it).
 */
export function activateSession(ctx: EngineContext, s: Ipmi15SessionState, data: Uint8Array): IpmiResponse {
  const { opts, stats, table } = ctx;
  if (data.length !== 22) return { cc: CompletionCode.requestDataLengthInvalid };
  const authType = data[0]! & 0x0f;
  const level = data[1]! & 0x0f;
  const challenge = data.subarray(2, 18);
  const initialOutbound = readU32LE(data, 18);
  if (authType !== s.authType || !equalBytes(challenge, s.challenge)) {
    loginFailed(ctx, "protocol", s.source, s.user?.name);
    if (table.delete(s.id)) stats.sessionsClosed++;
    return { cc: CompletionCode.invalidDataField };
  }
  if (level < PrivilegeLevel.callback || level > PrivilegeLevel.oem) return { cc: CompletionCode.invalidDataField };
  if (!s.user || level > s.user.maxPrivilege) {
    loginFailed(ctx, "privilege", s.source, s.user?.name);
    if (table.delete(s.id)) stats.sessionsClosed++;
    return { cc: SessionCompletionCode.privilegeExceedsLimit };
  }
  // The console's first message must carry this number; a random start makes a replay of
  // another session's packets useless.
  let inbound = readU32LE(random(4), 0) & 0x7fffffff;
  if (inbound === 0) inbound = 1;
  s.window = new SequenceWindow(inbound);
  s.outboundSeq = initialOutbound === 0 ? 0 : initialOutbound - 1;
  s.maxPrivilege = level;
  // IPMI 1.5 sessions start at User level; Set Session Privilege Level raises it.
  s.privilege = Math.min(PrivilegeLevel.user, level);
  s.state = "active";
  s.lastActivity = opts.now();
  stats.sessionsOpened++;
  opts.logger.debug("IPMI 1.5 session active", {
    client: `${s.source.address}:${s.source.port}`,
    session: s.id,
    user: s.user.name,
    auth: s.authType === AuthType.md5 ? "md5" : s.authType === AuthType.none ? "none" : "straight",
    limit: privilegeName(level),
  });
  const out = new Uint8Array(10);
  out[0] = s.authType;
  writeU32LE(out, 1, s.id);
  writeU32LE(out, 5, inbound);
  out[9] = level;
  return { cc: CompletionCode.ok, data: out };
}
