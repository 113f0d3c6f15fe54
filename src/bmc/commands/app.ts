// App (netFn 06) commands the BMC answers itself. Session commands (Auth Capabilities,
// Cipher Suites, Set Session Privilege, Close Session, …) are the engine's.
import { AppCmd } from "../../ipmi/codes/commands.ts";
import { CompletionCode } from "../../ipmi/codes/completion.ts";
import { NetFn } from "../../ipmi/codes/netfn.ts";
import { PrivilegeLevel } from "../../ipmi/codes/privilege.ts";
import { type BmcCommand, type BmcCommandContext, fail, reply, replyBytes } from "./context.ts";

/** App commands not in the shared table. */
const GET_BMC_GLOBAL_ENABLES = 0x2f;
const SET_BMC_GLOBAL_ENABLES = 0x2e;

/** "Present channel" in channel-addressed requests. */
export const CURRENT_CHANNEL = 0x0e;
const MEDIUM_802_3_LAN = 0x04;
const PROTOCOL_IPMB_1_0 = 0x01;
const MULTI_SESSION = 0x80;
/** IPMI Forum IANA number (7154), as Get Channel Info's vendor id for standard channels. */
const IPMI_FORUM_IANA = [0xf2, 0x1b, 0x00];
/** Get Channel Access byte 1: PEF alerting disabled, per-message and user-level auth enabled, always available. */
const CHANNEL_ACCESS_MODE = 0x20 | 0x02;
/** Get Self Test Results: 55h = no error. */
const SELF_TEST_OK = 0x55;
/** Additional device support: chassis device only (no SEL, SDR or FRU). */
const DEVICE_SUPPORT_CHASSIS = 0x80;
const IPMI_VERSION_2_0 = 0x02;

/** The channel a request names, or undefined if it is not this BMC's LAN channel. */
export function resolveChannel(requested: number, ctx: BmcCommandContext): number | undefined {
  const ch = requested & 0x0f;
  return ch === CURRENT_CHANNEL || ch === ctx.channel ? ctx.channel : undefined;
}

function getDeviceId(req: { data: Uint8Array }, ctx: BmcCommandContext) {
  if (req.data.length !== 0) return fail(CompletionCode.requestDataLengthInvalid);
  const id = ctx.identity;
  const m = id.manufacturerId;
  const out = new Uint8Array(15);
  out.set([
    id.deviceId,
    id.deviceRevision & 0x0f,
    id.firmwareMajor & 0x7f,
    id.firmwareMinorBcd,
    IPMI_VERSION_2_0,
    DEVICE_SUPPORT_CHASSIS,
    m & 0xff,
    (m >>> 8) & 0xff,
    (m >>> 16) & 0x0f,
    id.productId & 0xff,
    (id.productId >>> 8) & 0xff,
  ]);
  out.set(id.auxFirmware.subarray(0, 4), 11);
  return replyBytes(out);
}

function getGuid(req: { data: Uint8Array }, ctx: BmcCommandContext) {
  if (req.data.length !== 0) return fail(CompletionCode.requestDataLengthInvalid);
  return replyBytes(Uint8Array.from(ctx.identity.guid));
}

function noDataOk(req: { data: Uint8Array }) {
  if (req.data.length !== 0) return fail(CompletionCode.requestDataLengthInvalid);
  return reply();
}

function getChannelAccess(req: { data: Uint8Array }, ctx: BmcCommandContext) {
  if (req.data.length !== 2) return fail(CompletionCode.requestDataLengthInvalid);
  if (resolveChannel(req.data[0]!, ctx) === undefined) return fail(CompletionCode.invalidDataField);
  const which = (req.data[1]! >> 6) & 0x03;
  // 01b non-volatile, 10b present (volatile); both hold the same values here.
  if (which !== 1 && which !== 2) return fail(CompletionCode.invalidDataField);
  return reply(CHANNEL_ACCESS_MODE, ctx.privilegeLimit & 0x0f);
}

function getChannelInfo(req: { data: Uint8Array }, ctx: BmcCommandContext) {
  if (req.data.length !== 1) return fail(CompletionCode.requestDataLengthInvalid);
  const ch = resolveChannel(req.data[0]!, ctx);
  if (ch === undefined) return fail(CompletionCode.invalidDataField);
  const active = Math.min(ctx.sessionCount(), 0x3f);
  return reply(ch, MEDIUM_802_3_LAN, PROTOCOL_IPMB_1_0, MULTI_SESSION | active, ...IPMI_FORUM_IANA, 0x00, 0x00);
}

export const appCommands: BmcCommand[] = [
  { netFn: NetFn.app, cmd: AppCmd.getDeviceId, name: "get_device_id", privilege: PrivilegeLevel.user, handle: getDeviceId },
  { netFn: NetFn.app, cmd: AppCmd.getDeviceGuid, name: "get_device_guid", privilege: PrivilegeLevel.user, handle: getGuid },
  { netFn: NetFn.app, cmd: AppCmd.getSystemGuid, name: "get_system_guid", privilege: PrivilegeLevel.user, handle: getGuid },
  {
    netFn: NetFn.app,
    cmd: AppCmd.getSelfTestResults,
    name: "get_self_test_results",
    privilege: PrivilegeLevel.user,
    handle: (req) => (req.data.length !== 0 ? fail(CompletionCode.requestDataLengthInvalid) : reply(SELF_TEST_OK, 0x00)),
  },
  // A virtual BMC has nothing to reset; acknowledging keeps `mc reset` scripts working.
  { netFn: NetFn.app, cmd: AppCmd.coldReset, name: "cold_reset", privilege: PrivilegeLevel.administrator, handle: noDataOk },
  { netFn: NetFn.app, cmd: AppCmd.warmReset, name: "warm_reset", privilege: PrivilegeLevel.administrator, handle: noDataOk },
  {
    netFn: NetFn.app,
    cmd: GET_BMC_GLOBAL_ENABLES,
    name: "get_bmc_global_enables",
    privilege: PrivilegeLevel.user,
    handle: (req) => (req.data.length !== 0 ? fail(CompletionCode.requestDataLengthInvalid) : reply(0x00)),
  },
  {
    netFn: NetFn.app,
    cmd: SET_BMC_GLOBAL_ENABLES,
    name: "set_bmc_global_enables",
    privilege: PrivilegeLevel.administrator,
    handle: (req) => {
      if (req.data.length !== 1) return fail(CompletionCode.requestDataLengthInvalid);
      // No SEL, event buffer or message queue: only 0 can be honoured.
      if (req.data[0]! !== 0) return fail(CompletionCode.invalidDataField);
      return reply();
    },
  },
  { netFn: NetFn.app, cmd: AppCmd.getChannelAccess, name: "get_channel_access", privilege: PrivilegeLevel.user, handle: getChannelAccess },
  { netFn: NetFn.app, cmd: AppCmd.getChannelInfo, name: "get_channel_info", privilege: PrivilegeLevel.user, handle: getChannelInfo },
];
