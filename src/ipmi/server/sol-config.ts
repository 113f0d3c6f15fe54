// SOL configuration parameters (IPMI v2.0 section 26.2/26.3, table 26-5): Get and Set SOL
// Configuration Parameters (0C:22 / 0C:21) over one engine's settings. The settings are
// volatile: they live as long as the engine (a restart brings the defaults back).
import { CompletionCode } from "../codes/completion.ts";
import { PrivilegeLevel } from "../codes/privilege.ts";
import { SOL_BIT_RATES, SOL_PARAM_REVISION, SolConfigCode, SolParam } from "../codes/sol.ts";
import { CURRENT_CHANNEL } from "./channel-commands.ts";
import type { IpmiResponse } from "./types.ts";

export interface SolSettings {
  enabled: boolean;
  /** Activation must ask for (and the session must have) encryption. */
  forceEncryption: boolean;
  /** Activation must ask for (and the session must have) authentication. */
  forceAuthentication: boolean;
  /** Privilege an activating session must hold: 2 user, 3 operator, 4 administrator. */
  privilege: number;
  /** Character accumulate interval in 5 ms units (1..255). */
  accumulateInterval: number;
  /** Characters that make the BMC send at once (1..255). */
  sendThreshold: number;
  /** Retransmissions of an unacknowledged packet (0..7). */
  retryCount: number;
  /** Wait before a retransmission, in 10 ms units (0 = at once). */
  retryInterval: number;
  nonVolatileBitRate: number;
  volatileBitRate: number;
}

/**
 * Common BMC defaults: 60 ms accumulation, 96-character threshold, 7 retries 500 ms apart.
 * The link (sol-link.ts) treats accumulation as an upper bound: stop-and-wait already batches.
 */
export function defaultSolSettings(): SolSettings {
  return {
    enabled: true,
    forceEncryption: true,
    forceAuthentication: true,
    privilege: PrivilegeLevel.user,
    accumulateInterval: 12,
    sendThreshold: 96,
    retryCount: 7,
    retryInterval: 50,
    nonVolatileBitRate: 0x0a,
    volatileBitRate: 0x0a,
  };
}

/** What Get SOL Config needs besides the settings. */
export interface SolConfigView {
  settings: SolSettings;
  /** Parameter 0: 0 set complete, 1 set in progress. */
  progress: { state: number };
  channel: number;
  /** Whether a serial console source exists: without one, parameter 1 reads "disabled". */
  available: boolean;
  /** The UDP port SOL runs on: the port the session came in on. */
  port: number;
}

function channelOk(view: SolConfigView, byte: number): boolean {
  const ch = byte & 0x0f;
  return ch === CURRENT_CHANNEL || ch === view.channel;
}

/** The data of one parameter, or a completion code. */
function paramData(view: SolConfigView, selector: number): Uint8Array | number {
  const s = view.settings;
  switch (selector) {
    case SolParam.setInProgress:
      return new Uint8Array([view.progress.state]);
    case SolParam.enable:
      return new Uint8Array([s.enabled && view.available ? 1 : 0]);
    case SolParam.authentication:
      return new Uint8Array([(s.forceEncryption ? 0x80 : 0) | (s.forceAuthentication ? 0x40 : 0) | s.privilege]);
    case SolParam.characterAccumulate:
      return new Uint8Array([s.accumulateInterval, s.sendThreshold]);
    case SolParam.retry:
      return new Uint8Array([s.retryCount, s.retryInterval]);
    case SolParam.nonVolatileBitRate:
      return new Uint8Array([s.nonVolatileBitRate]);
    case SolParam.volatileBitRate:
      return new Uint8Array([s.volatileBitRate]);
    case SolParam.payloadChannel:
      return new Uint8Array([view.channel]);
    case SolParam.payloadPort:
      return new Uint8Array([view.port & 0xff, (view.port >> 8) & 0xff]);
    default:
      return SolConfigCode.parameterNotSupported;
  }
}

/** Get SOL Configuration Parameters: [channel | 0x80 revision-only, selector, set, block]. */
export function getSolConfig(view: SolConfigView, data: Uint8Array): IpmiResponse {
  if (data.length !== 4) return { cc: CompletionCode.requestDataLengthInvalid };
  if (!channelOk(view, data[0]!)) return { cc: CompletionCode.invalidDataField };
  const value = paramData(view, data[1]!);
  if (typeof value === "number") return { cc: value };
  if ((data[0]! & 0x80) !== 0) return { cc: CompletionCode.ok, data: new Uint8Array([SOL_PARAM_REVISION]) };
  const out = new Uint8Array(1 + value.length);
  out[0] = SOL_PARAM_REVISION;
  out.set(value, 1);
  return { cc: CompletionCode.ok, data: out };
}

/** Bytes of parameter data each writable parameter takes. */
const WRITABLE_LENGTH: Record<number, number> = {
  [SolParam.setInProgress]: 1,
  [SolParam.enable]: 1,
  [SolParam.authentication]: 1,
  [SolParam.characterAccumulate]: 2,
  [SolParam.retry]: 2,
  [SolParam.nonVolatileBitRate]: 1,
  [SolParam.volatileBitRate]: 1,
};

/**
 * Set SOL Configuration Parameters: [channel, selector, data…]. The payload channel and
 * port are read-only (SOL always runs in the session it was activated in).
 */
export function setSolConfig(view: SolConfigView, data: Uint8Array): IpmiResponse {
  if (data.length < 2) return { cc: CompletionCode.requestDataLengthInvalid };
  if (!channelOk(view, data[0]!)) return { cc: CompletionCode.invalidDataField };
  const selector = data[1]!;
  if (selector === SolParam.payloadChannel || selector === SolParam.payloadPort) return { cc: SolConfigCode.readOnly };
  const len = WRITABLE_LENGTH[selector];
  if (len === undefined) return { cc: SolConfigCode.parameterNotSupported };
  if (data.length !== 2 + len) return { cc: CompletionCode.requestDataLengthInvalid };
  const v = data.subarray(2);
  const s = view.settings;
  switch (selector) {
    case SolParam.setInProgress: {
      const state = v[0]! & 0x03;
      if (state === 3) return { cc: CompletionCode.invalidDataField };
      if (state === 1 && view.progress.state === 1) return { cc: SolConfigCode.setInProgress };
      // 2 = commit write: every write takes effect at once, so there is nothing to commit.
      if (state !== 2) view.progress.state = state;
      break;
    }
    case SolParam.enable:
      s.enabled = (v[0]! & 0x01) !== 0;
      break;
    case SolParam.authentication: {
      const level = v[0]! & 0x0f;
      if (level < PrivilegeLevel.user || level > PrivilegeLevel.administrator) return { cc: CompletionCode.invalidDataField };
      s.forceEncryption = (v[0]! & 0x80) !== 0;
      s.forceAuthentication = (v[0]! & 0x40) !== 0;
      s.privilege = level;
      break;
    }
    case SolParam.characterAccumulate:
      if (v[0] === 0 || v[1] === 0) return { cc: CompletionCode.invalidDataField };
      s.accumulateInterval = v[0]!;
      s.sendThreshold = v[1]!;
      break;
    case SolParam.retry:
      if (v[0]! > 7) return { cc: CompletionCode.invalidDataField };
      s.retryCount = v[0]!;
      s.retryInterval = v[1]!;
      break;
    case SolParam.nonVolatileBitRate:
    case SolParam.volatileBitRate: {
      const code = v[0]! & 0x0f;
      if ((v[0]! & 0xf0) !== 0 || SOL_BIT_RATES[code] === undefined) return { cc: CompletionCode.invalidDataField };
      if (selector === SolParam.nonVolatileBitRate) s.nonVolatileBitRate = code;
      else s.volatileBitRate = code;
      break;
    }
  }
  return { cc: CompletionCode.ok };
}
