// Sessionless channel commands the engine answers itself:
// Get Channel Authentication Capabilities (06:38) and Get Channel Cipher Suites (06:54).
import { AuthType } from "../codes/auth-types.ts";
import { CompletionCode } from "../codes/completion.ts";
import { ipmi15AuthTypes, type ResolvedOptions } from "./context.ts";
import type { IpmiResponse } from "./types.ts";

/** Channel 0x0E means "the channel this request arrived on". */
export const CURRENT_CHANNEL = 0x0e;

function channelMatches(o: ResolvedOptions, requested: number): boolean {
  return requested === CURRENT_CHANNEL || requested === o.channel;
}

export function getChannelAuthCapabilities(o: ResolvedOptions, data: Uint8Array): IpmiResponse {
  if (data.length !== 2) return { cc: CompletionCode.requestDataLengthInvalid };
  const wantV2 = (data[0]! & 0x80) !== 0;
  const channel = data[0]! & 0x0f;
  const level = data[1]! & 0x0f;
  if (!channelMatches(o, channel) || level < 1 || level > 5) return { cc: CompletionCode.invalidDataField };

  let authTypes = 0;
  for (const t of ipmi15AuthTypes(o)) {
    if (t === AuthType.none) authTypes |= 0x01;
    if (t === AuthType.md5) authTypes |= 0x04;
    if (t === AuthType.straightPassword) authTypes |= 0x10;
  }
  const v2 = o.suites.length > 0;
  // Byte 3: bit 5 Kg non-default (never: Kg = Kuid), bit 4 per-message auth disabled
  // (never), bit 3 user-level auth disabled (never), bits 2..0 login kinds enabled.
  let login = 0;
  if (o.users.some((u) => u.name !== "")) login |= 0x04;
  if (o.users.some((u) => u.name === "" && u.password !== "")) login |= 0x02;
  if (o.users.some((u) => u.name === "" && u.password === "")) login |= 0x01;
  const ext = wantV2 ? (v2 ? 0x02 : 0) | (o.ipmi15 ? 0x01 : 0) : 0;
  const out = new Uint8Array([o.channel, (wantV2 && v2 ? 0x80 : 0) | authTypes, login, ext, 0, 0, 0, 0]);
  return { cc: CompletionCode.ok, data: out };
}

/** All cipher suite records, concatenated: C0 id auth 40|integrity 80|conf per suite. */
export function cipherSuiteRecords(o: ResolvedOptions): Uint8Array {
  const out = new Uint8Array(o.suites.length * 5);
  o.suites.forEach((s, i) => {
    out.set([0xc0, s.id, s.auth & 0x3f, 0x40 | s.integrity, 0x80 | s.confidentiality], i * 5);
  });
  return out;
}

/** The distinct algorithms, tagged as in the records: the "list supported algorithms" form. */
function algorithmList(o: ResolvedOptions): Uint8Array {
  const seen: number[] = [];
  const add = (b: number) => {
    if (!seen.includes(b)) seen.push(b);
  };
  for (const s of o.suites) add(s.auth & 0x3f);
  for (const s of o.suites) add(0x40 | s.integrity);
  for (const s of o.suites) add(0x80 | s.confidentiality);
  return new Uint8Array(seen);
}

export function getChannelCipherSuites(o: ResolvedOptions, data: Uint8Array): IpmiResponse {
  if (data.length !== 3) return { cc: CompletionCode.requestDataLengthInvalid };
  const channel = data[0]! & 0x0f;
  const payloadType = data[1]! & 0x3f;
  const bySuite = (data[2]! & 0x80) !== 0;
  const index = data[2]! & 0x3f;
  if (!channelMatches(o, channel)) return { cc: CompletionCode.invalidDataField };
  // Suites apply to IPMI (0) and SOL (1) payloads alike; other payload types have none.
  const all = payloadType <= 1 ? (bySuite ? cipherSuiteRecords(o) : algorithmList(o)) : new Uint8Array(0);
  const chunk = all.subarray(Math.min(index * 16, all.length), Math.min(index * 16 + 16, all.length));
  const out = new Uint8Array(1 + chunk.length);
  out[0] = o.channel;
  out.set(chunk, 1);
  return { cc: CompletionCode.ok, data: out };
}
