// Chassis (netFn 00): status, power control, restart cause. Boot options are in boot-options.ts.
import { ChassisCmd, ChassisControl } from "../../ipmi/codes/commands.ts";
import { CompletionCode } from "../../ipmi/codes/completion.ts";
import { NetFn } from "../../ipmi/codes/netfn.ts";
import { PrivilegeLevel } from "../../ipmi/codes/privilege.ts";
import type { IpmiRequest } from "../../ipmi/server/types.ts";
import { type PowerAction, runPowerAction } from "../power-actions.ts";
import { type BmcCommand, type BmcCommandContext, fail, reply } from "./context.ts";

const GET_SYSTEM_RESTART_CAUSE = 0x07;
/** Get Chassis Status byte 1 bits 6:5 = 11b: power restore policy unknown (a VM has none). */
const RESTORE_POLICY_UNKNOWN = 0x60;
const POWER_ON = 0x01;
const POWER_CONTROL_FAULT = 0x10;
const LAST_POWER_ON_VIA_IPMI = 0x10;
/** Get System Restart Cause: 1 = chassis control command. */
export const RESTART_CAUSE_CHASSIS_CONTROL = 0x01;
/** FRU, SDR, SEL, system management and bridge device addresses: the BMC itself (20h). */
const BMC_ADDRESS = 0x20;


const ACTIONS: Record<number, PowerAction> = {
  [ChassisControl.powerDown]: "off",
  [ChassisControl.powerUp]: "on",
  [ChassisControl.powerCycle]: "cycle",
  [ChassisControl.hardReset]: "reset",
  [ChassisControl.diagnosticInterrupt]: "diag",
  [ChassisControl.softShutdown]: "soft",
};

function getChassisStatus(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length !== 0) return fail(CompletionCode.requestDataLengthInvalid);
  const power = ctx.backend.powerState();
  // Never a wrong state: a stale or unknown reading is an error, not a guess.
  if (!power.fresh || power.state === "unknown") return fail(CompletionCode.timeout);
  const b1 = (power.state === "on" ? POWER_ON : 0) | (ctx.chassis.powerControlFault ? POWER_CONTROL_FAULT : 0) | RESTORE_POLICY_UNKNOWN;
  const b2 = ctx.chassis.lastPowerOnViaIpmi ? LAST_POWER_ON_VIA_IPMI : 0;
  return reply(b1, b2, 0x00);
}

async function runChassisControl(ctx: BmcCommandContext, action: PowerAction, channel: number): Promise<void> {
  await runPowerAction(ctx.backend, action);
  if (action === "on" || action === "cycle" || action === "reset") {
    ctx.chassis.restartCause = RESTART_CAUSE_CHASSIS_CONTROL;
    ctx.chassis.restartChannel = channel;
    if (action !== "reset") ctx.chassis.lastPowerOnViaIpmi = true;
  }
}

async function chassisControl(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length !== 1) return fail(CompletionCode.requestDataLengthInvalid);
  const action = ACTIONS[req.data[0]! & 0x0f];
  if (!action || (req.data[0]! & 0xf0) !== 0) return fail(CompletionCode.invalidDataField);
  // The hypervisor has not been heard from within the staleness bound: refuse at once
  // rather than accept a command that cannot be carried out.
  if (!ctx.backend.powerState().fresh) return fail(CompletionCode.timeout);
  ctx.logger.info("chassis control", { action, user: req.session?.user, peer: req.source.address });
  return { cc: await ctx.actions.submit(`power:${action}`, () => runChassisControl(ctx, action, req.channel)) };
}

export const chassisCommands: BmcCommand[] = [
  {
    netFn: NetFn.chassis,
    cmd: ChassisCmd.getChassisCapabilities,
    name: "get_chassis_capabilities",
    privilege: PrivilegeLevel.user,
    handle: (req) =>
      req.data.length !== 0
        ? fail(CompletionCode.requestDataLengthInvalid)
        : reply(0x00, BMC_ADDRESS, BMC_ADDRESS, BMC_ADDRESS, BMC_ADDRESS, BMC_ADDRESS),
  },
  { netFn: NetFn.chassis, cmd: ChassisCmd.getChassisStatus, name: "get_chassis_status", privilege: PrivilegeLevel.user, handle: getChassisStatus },
  { netFn: NetFn.chassis, cmd: ChassisCmd.chassisControl, name: "chassis_control", privilege: PrivilegeLevel.operator, handle: chassisControl },
  {
    netFn: NetFn.chassis,
    cmd: GET_SYSTEM_RESTART_CAUSE,
    name: "get_system_restart_cause",
    privilege: PrivilegeLevel.user,
    handle: (req, ctx) =>
      req.data.length !== 0
        ? fail(CompletionCode.requestDataLengthInvalid)
        : reply(ctx.chassis.restartCause & 0x0f, ctx.chassis.restartChannel & 0x0f),
  },
];
