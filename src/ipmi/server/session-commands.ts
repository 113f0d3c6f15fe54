// In-session commands the engine answers itself: Set Session Privilege Level (06:3B)
// and Close Session (06:3C).
import { CompletionCode, SessionCompletionCode } from "../codes/completion.ts";
import { PrivilegeLevel, privilegeName } from "../codes/privilege.ts";
import { readU32LE } from "../wire/bytes.ts";
import type { EngineContext } from "./context.ts";
import type { SessionState } from "./session-table.ts";
import type { IpmiResponse } from "./types.ts";

export function setSessionPrivilegeLevel(ctx: EngineContext, s: SessionState, data: Uint8Array): IpmiResponse {
  if (data.length !== 1) return { cc: CompletionCode.requestDataLengthInvalid };
  const level = data[0]! & 0x0f;
  if (level === 0) return { cc: CompletionCode.ok, data: new Uint8Array([s.privilege]) };
  if (level < PrivilegeLevel.user || level > PrivilegeLevel.oem) return { cc: CompletionCode.invalidDataField };
  if (!s.user || level > s.user.maxPrivilege) return { cc: SessionCompletionCode.levelNotAvailable };
  if (level > s.maxPrivilege) return { cc: SessionCompletionCode.levelExceedsLimit };
  if (level !== s.privilege) {
    ctx.opts.logger.debug("session privilege changed", { session: s.id, privilege: privilegeName(level) });
  }
  s.privilege = level;
  return { cc: CompletionCode.ok, data: new Uint8Array([level]) };
}

/**
 * Close Session. Returns the response and, when it closes the caller's own session, true
 * in `closesSelf`: the engine must seal the reply with the session's keys before dropping it.
 */
export function closeSession(ctx: EngineContext, s: SessionState, data: Uint8Array): { response: IpmiResponse; closesSelf: boolean } {
  if (data.length !== 4 && data.length !== 5) return { response: { cc: CompletionCode.requestDataLengthInvalid }, closesSelf: false };
  const id = readU32LE(data, 0);
  if (id === 0) {
    // Closing by session handle is not supported: handles are not exposed.
    return { response: { cc: 0x88 }, closesSelf: false };
  }
  if (id === s.id) return { response: { cc: CompletionCode.ok }, closesSelf: true };
  const other = ctx.table.get(id);
  if (!other || other.state !== "active") return { response: { cc: SessionCompletionCode.invalidSessionId }, closesSelf: false };
  if (s.privilege < PrivilegeLevel.administrator) return { response: { cc: CompletionCode.insufficientPrivilege }, closesSelf: false };
  ctx.table.delete(id);
  ctx.stats.sessionsClosed++;
  ctx.opts.logger.info("session closed by another session", { session: id, by: s.id });
  return { response: { cc: CompletionCode.ok }, closesSelf: false };
}
