// Get Channel Payload Support (06:4E) and Get Channel Payload Version (06:4F), IPMI v2.0
// section 24.8/24.9: which RMCP+ payload types this channel carries. freeipmi's ipmiconsole
// asks the first before activating SOL and uses the second as its keepalive.
import { PayloadType } from "../codes/auth-types.ts";
import { CompletionCode } from "../codes/completion.ts";
import { PAYLOAD_NOT_AVAILABLE, SOL_PAYLOAD_VERSION } from "../codes/sol.ts";
import { CURRENT_CHANNEL } from "./channel-commands.ts";
import type { ResolvedOptions } from "./context.ts";
import type { IpmiResponse } from "./types.ts";

function channelOk(o: ResolvedOptions, byte: number): boolean {
  const ch = byte & 0x0f;
  return ch === CURRENT_CHANNEL || ch === o.channel;
}

/** Payload types carried, by number. SOL only when a console source is configured. */
function carried(o: ResolvedOptions): number[] {
  const types: number[] = [PayloadType.ipmi];
  if (o.sol) types.push(PayloadType.sol);
  for (let t = PayloadType.openSessionRequest; t <= PayloadType.rakp4; t++) types.push(t);
  return types;
}

/** → standard types bits 0-15, session-setup types (0x10-0x1F) bits, OEM types bits, reserved. */
export function getChannelPayloadSupport(o: ResolvedOptions, data: Uint8Array): IpmiResponse {
  if (data.length !== 1) return { cc: CompletionCode.requestDataLengthInvalid };
  if (!channelOk(o, data[0]!)) return { cc: CompletionCode.invalidDataField };
  const out = new Uint8Array(8);
  for (const t of carried(o)) {
    const word = t < 0x10 ? 0 : 2;
    const bit = t & 0x0f;
    const i = word + (bit >> 3);
    out[i] = out[i]! | (1 << (bit & 7));
  }
  return { cc: CompletionCode.ok, data: out };
}

/** [channel, payload type] → [format version, BCD]. */
export function getChannelPayloadVersion(o: ResolvedOptions, data: Uint8Array): IpmiResponse {
  if (data.length !== 2) return { cc: CompletionCode.requestDataLengthInvalid };
  if (!channelOk(o, data[0]!)) return { cc: CompletionCode.invalidDataField };
  if (!carried(o).includes(data[1]! & 0x3f)) return { cc: PAYLOAD_NOT_AVAILABLE };
  return { cc: CompletionCode.ok, data: new Uint8Array([SOL_PAYLOAD_VERSION]) };
}
