// Transport (netFn 0C): LAN configuration parameters, read-only. vCenter DPM reads 3, 4,
// 5 and 6 when a BMC is registered, `ipmitool lan print` reads most of the rest.
import { TransportCmd } from "../../ipmi/codes/commands.ts";
import { CompletionCode } from "../../ipmi/codes/completion.ts";
import { NetFn } from "../../ipmi/codes/netfn.ts";
import { PrivilegeLevel } from "../../ipmi/codes/privilege.ts";
import type { IpmiRequest } from "../../ipmi/server/types.ts";
import { resolveChannel } from "./app.ts";
import { type BmcCommand, type BmcCommandContext, fail, reply } from "./context.ts";

export const LanParam = {
  setInProgress: 0,
  authTypeSupport: 1,
  authTypeEnables: 2,
  ipAddress: 3,
  ipAddressSource: 4,
  macAddress: 5,
  subnetMask: 6,
  ipv4HeaderParams: 7,
  defaultGateway: 12,
  cipherSuiteEntrySupport: 0x16,
  cipherSuiteEntries: 0x17,
  cipherSuitePrivileges: 0x18,
} as const;

/** Completion codes specific to the LAN configuration commands. */
const PARAMETER_NOT_SUPPORTED = 0x80;
const WRITE_READ_ONLY_PARAMETER = 0x82;
const PARAMETER_REVISION = 0x11;
const IP_SOURCE_STATIC = 0x01;
/** Spec defaults: TTL 40h, flags 40h (don't fragment), precedence/TOS 10h. */
const IPV4_HEADER_DEFAULTS = [0x40, 0x40, 0x10];

/** The parameter's data, or undefined if not supported. */
function lanParameter(param: number, req: IpmiRequest, ctx: BmcCommandContext): number[] | undefined {
  switch (param) {
    case LanParam.setInProgress:
      return [0x00];
    case LanParam.authTypeSupport:
      return [ctx.authTypeSupport & 0x3f];
    case LanParam.authTypeEnables: {
      // Callback level gets nothing: this BMC has no callback users.
      const t = ctx.authTypeSupport & 0x37;
      return [0x00, t, t, t, 0x00];
    }
    case LanParam.ipAddress:
      return [...ctx.lanAddress(req.source.address).ip];
    case LanParam.ipAddressSource:
      return [IP_SOURCE_STATIC];
    case LanParam.macAddress:
      return [...ctx.identity.mac];
    case LanParam.subnetMask:
      return [...ctx.lanAddress(req.source.address).mask];
    case LanParam.ipv4HeaderParams:
      return IPV4_HEADER_DEFAULTS;
    case LanParam.defaultGateway:
      return [...ctx.lanAddress(req.source.address).gateway];
    case LanParam.cipherSuiteEntrySupport:
      return [ctx.cipherSuites.length & 0x1f];
    case LanParam.cipherSuiteEntries: {
      // Sixteen entry slots (the parameter's fixed size); parameter 22 says how many are used.
      const entries = new Array<number>(16).fill(0);
      ctx.cipherSuites.slice(0, 16).forEach((id, i) => (entries[i] = id));
      return [0x00, ...entries];
    }
    case LanParam.cipherSuitePrivileges: {
      // Sixteen 4-bit entries, the first in the low nibble of the first byte.
      const levels = new Array<number>(8).fill(0);
      ctx.cipherSuites.slice(0, 16).forEach((_, i) => {
        const shift = (i % 2) * 4;
        levels[i >> 1] = (levels[i >> 1] ?? 0) | ((ctx.privilegeLimit & 0x0f) << shift);
      });
      return [0x00, ...levels];
    }
    default:
      return undefined;
  }
}

function getLanConfig(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length !== 4) return fail(CompletionCode.requestDataLengthInvalid);
  if (resolveChannel(req.data[0]!, ctx) === undefined) return fail(CompletionCode.invalidDataField);
  const revisionOnly = (req.data[0]! & 0x80) !== 0;
  const data = lanParameter(req.data[1]!, req, ctx);
  if (!data) return fail(PARAMETER_NOT_SUPPORTED);
  return revisionOnly ? reply(PARAMETER_REVISION) : reply(PARAMETER_REVISION, ...data);
}

function setLanConfig(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length < 3) return fail(CompletionCode.requestDataLengthInvalid);
  if (resolveChannel(req.data[0]!, ctx) === undefined) return fail(CompletionCode.invalidDataField);
  const param = req.data[1]!;
  // Set In Progress is accepted so `ipmitool lan set` can lock and unlock; the rest come
  // from the BMC's configuration and cannot be changed over IPMI.
  if (param === LanParam.setInProgress) return req.data.length === 3 ? reply() : fail(CompletionCode.requestDataLengthInvalid);
  return fail(lanParameter(param, req, ctx) ? WRITE_READ_ONLY_PARAMETER : PARAMETER_NOT_SUPPORTED);
}

export const transportCommands: BmcCommand[] = [
  { netFn: NetFn.transport, cmd: TransportCmd.getLanConfigParams, name: "get_lan_config_params", privilege: PrivilegeLevel.operator, handle: getLanConfig },
  { netFn: NetFn.transport, cmd: TransportCmd.setLanConfigParams, name: "set_lan_config_params", privilege: PrivilegeLevel.administrator, handle: setLanConfig },
];
