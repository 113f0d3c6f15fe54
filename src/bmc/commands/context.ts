// What a command handler sees: the request, and the BMC's state and collaborators.
// Handlers are pure apart from the BMC state they are given here; nothing global.
import type { IpmiRequest, IpmiResponse } from "../../ipmi/server/types.ts";
import type { Logger } from "../../log/logger.ts";
import type { BmcActionQueue } from "../action-queue.ts";
import type { VmBackend } from "../backend.ts";
import type { BmcIdentity } from "../identity.ts";
import type { LanAddress } from "../lan-address.ts";

/** Mutable chassis facts reported by Get Chassis Status and Get System Restart Cause. */
export interface ChassisState {
  /** The last power-on was done by an IPMI command (status byte 2 bit 4). */
  lastPowerOnViaIpmi: boolean;
  /** The last power command did not reach its state (status byte 1 bit 4). */
  powerControlFault: boolean;
  /** Get System Restart Cause: 0 unknown, 1 chassis control command. */
  restartCause: number;
  /** Channel the restart cause came in on. */
  restartChannel: number;
}

/** System Boot Options parameters kept by the BMC itself (parameter 5 lives in the backend). */
export interface BootParamState {
  /** Parameter 0: 0 set complete, 1 set in progress, 2 commit write. */
  setInProgress: number;
  /** Parameter 3: BMC boot flag valid bit clearing. */
  validBitClearing: number;
  /** Parameter 4: boot info acknowledge data. */
  bootInfoAck: number;
}

export interface BmcCommandContext {
  backend: VmBackend;
  identity: BmcIdentity;
  /** Serialises every state-changing action on the VM; answers within the ack window. */
  actions: BmcActionQueue;
  /** The LAN channel this BMC is (the engine reports the same in Auth Capabilities). */
  channel: number;
  /** Channel privilege limit (Get Channel Access byte 2): highest level any user may take. */
  privilegeLimit: number;
  /** IPMI 1.5 auth types this BMC accepts (LAN parameter 1 bit mask). */
  authTypeSupport: number;
  /** RMCP+ cipher suites offered, in the order offered. */
  cipherSuites: readonly number[];
  /** Active sessions (Get Channel Info byte 4). */
  sessionCount(): number;
  /** The IPv4 address, mask and gateway reported by LAN parameters 3, 6 and 12. */
  lanAddress(peer: string): LanAddress;
  chassis: ChassisState;
  boot: BootParamState;
  logger: Logger;
}

export type BmcCommandHandler = (req: IpmiRequest, ctx: BmcCommandContext) => Promise<IpmiResponse> | IpmiResponse;

export interface BmcCommand {
  netFn: number;
  cmd: number;
  /** Metric label and log name, snake_case. */
  name: string;
  /** Privilege the command needs (IPMI v2.0 appendix G). */
  privilege: number;
  handle: BmcCommandHandler;
}

export function reply(...bytes: number[]): IpmiResponse {
  return { cc: 0, data: Uint8Array.from(bytes) };
}

export function replyBytes(data: Uint8Array): IpmiResponse {
  return { cc: 0, data };
}

/** A failure reply carries the completion code only: no stray data bytes. */
export function fail(cc: number): IpmiResponse {
  return { cc };
}
