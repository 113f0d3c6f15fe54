// Sealing a payload in an established RMCP+ session: the next outbound session sequence
// number and the session's integrity/confidentiality, whatever the payload type (IPMI
// responses and SOL packets share the counter, as IPMI v2.0 section 13.28 asks).
import { sealRmcpPlus, type RmcpPlusSecurity } from "../secure.ts";
import type { RmcpPlusSessionState } from "./session-table.ts";

export function sessionSecurity(s: RmcpPlusSessionState): RmcpPlusSecurity | undefined {
  if (!s.keys) return undefined;
  return { integrity: s.suite.integrity, confidentiality: s.suite.confidentiality, k1: s.keys.k1, k2: s.keys.k2 };
}

/** `sec` overrides the session's protection (a SOL payload activated without encryption). */
export function sealInSession(s: RmcpPlusSessionState, payloadType: number, plain: Uint8Array, sec = sessionSecurity(s)): Uint8Array {
  if (!sec) return sealRmcpPlus(payloadType, 0, 0, plain);
  s.outboundSeq = (s.outboundSeq + 1) >>> 0 || 1;
  return sealRmcpPlus(payloadType, s.consoleId, s.outboundSeq, plain, sec);
}
