// Get/Set System Boot Options (00:09 / 00:08). Parameter 5 (boot flags) is the VM's boot
// override and lives in the backend; parameters 0, 3 and 4 are BMC bookkeeping.
import { ChassisCmd } from "../../ipmi/codes/commands.ts";
import { CompletionCode } from "../../ipmi/codes/completion.ts";
import { NetFn } from "../../ipmi/codes/netfn.ts";
import { PrivilegeLevel } from "../../ipmi/codes/privilege.ts";
import type { IpmiRequest } from "../../ipmi/server/types.ts";
import type { BootDevice, BootSetting } from "../backend.ts";
import { type BmcCommand, type BmcCommandContext, fail, reply } from "./context.ts";

export const BootParam = {
  setInProgress: 0,
  validBitClearing: 3,
  bootInfoAcknowledge: 4,
  bootFlags: 5,
} as const;

/** Completion code 80h for boot options: parameter not supported. */
const PARAMETER_NOT_SUPPORTED = 0x80;
/** Parameter format version in every Get System Boot Options reply. */
const PARAMETER_VERSION = 0x01;

const FLAG_VALID = 0x80;
const FLAG_PERSISTENT = 0x40;
const FLAG_EFI = 0x20;

/** Boot device selector (boot flags data 2, bits 5:2) ↔ device. */
const DEVICE_CODES: Record<BootDevice, number> = {
  none: 0x0,
  pxe: 0x1,
  disk: 0x2,
  safe: 0x3,
  diag: 0x4,
  cdrom: 0x5,
  bios: 0x6,
  floppy: 0xf,
};

/** Selectors accepted on write, including the remote-media ones folded onto local devices. */
const DEVICE_BY_CODE: Record<number, BootDevice> = {
  0x0: "none",
  0x1: "pxe",
  0x2: "disk",
  0x3: "safe",
  0x4: "diag",
  0x5: "cdrom",
  0x6: "bios",
  0x7: "floppy", // remotely connected floppy / primary removable media
  0x8: "cdrom", // remotely connected CD/DVD
  0x9: "cdrom", // primary remote media
  0xb: "disk", // remotely connected hard disk
  0xf: "floppy",
};

export function encodeBootFlags(s: BootSetting): Uint8Array {
  const valid = s.device !== "none";
  const b1 = (valid ? FLAG_VALID : 0) | (valid && s.persistent ? FLAG_PERSISTENT : 0) | (s.efi ? FLAG_EFI : 0);
  return Uint8Array.from([b1, DEVICE_CODES[s.device] << 2, 0x00, 0x00, 0x00]);
}

/** Parse boot flags data (5 bytes). Returns undefined for a reserved device selector. */
export function decodeBootFlags(d: Uint8Array): BootSetting | undefined {
  const valid = (d[0]! & FLAG_VALID) !== 0;
  const device = DEVICE_BY_CODE[(d[1]! >> 2) & 0x0f];
  if (device === undefined) return undefined;
  return {
    device: valid ? device : "none",
    persistent: (d[0]! & FLAG_PERSISTENT) !== 0,
    efi: (d[0]! & FLAG_EFI) !== 0,
  };
}

async function getBootOptions(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length !== 3) return fail(CompletionCode.requestDataLengthInvalid);
  const param = req.data[0]! & 0x7f;
  switch (param) {
    case BootParam.setInProgress:
      return reply(PARAMETER_VERSION, param, ctx.boot.setInProgress & 0x03);
    case BootParam.validBitClearing:
      return reply(PARAMETER_VERSION, param, ctx.boot.validBitClearing & 0x1f);
    case BootParam.bootInfoAcknowledge:
      // Byte 1 (the write mask) reads back as 00h.
      return reply(PARAMETER_VERSION, param, 0x00, ctx.boot.bootInfoAck);
    case BootParam.bootFlags: {
      const setting = await ctx.backend.getBoot();
      return reply(PARAMETER_VERSION, param, ...encodeBootFlags(setting));
    }
    default:
      return fail(PARAMETER_NOT_SUPPORTED);
  }
}

async function setBootOptions(req: IpmiRequest, ctx: BmcCommandContext) {
  if (req.data.length < 1) return fail(CompletionCode.requestDataLengthInvalid);
  const param = req.data[0]! & 0x7f;
  const d = req.data.subarray(1);
  switch (param) {
    case BootParam.setInProgress: {
      if (d.length !== 1) return fail(CompletionCode.requestDataLengthInvalid);
      const v = d[0]! & 0x03;
      if (v === 0x03) return fail(CompletionCode.invalidDataField);
      // "Commit write" takes effect at once here (parameter 5 is applied when written),
      // so the state returns to "set complete".
      ctx.boot.setInProgress = v === 0x02 ? 0x00 : v;
      return reply();
    }
    case BootParam.validBitClearing:
      if (d.length !== 1) return fail(CompletionCode.requestDataLengthInvalid);
      ctx.boot.validBitClearing = d[0]! & 0x1f;
      return reply();
    case BootParam.bootInfoAcknowledge: {
      if (d.length !== 2) return fail(CompletionCode.requestDataLengthInvalid);
      const mask = d[0]!;
      ctx.boot.bootInfoAck = (ctx.boot.bootInfoAck & ~mask & 0xff) | (d[1]! & mask);
      return reply();
    }
    case BootParam.bootFlags: {
      if (d.length !== 5) return fail(CompletionCode.requestDataLengthInvalid);
      const setting = decodeBootFlags(d);
      if (!setting) return fail(CompletionCode.invalidDataField);
      if (!ctx.backend.powerState().fresh) return fail(CompletionCode.timeout);
      ctx.logger.info("set boot device", { ...setting, user: req.session?.user, peer: req.source.address });
      const key = `boot:${setting.device}:${setting.persistent ? "persistent" : "once"}:${setting.efi ? "efi" : "bios"}`;
      return { cc: await ctx.actions.submit(key, () => ctx.backend.setBoot(setting)) };
    }
    default:
      return fail(PARAMETER_NOT_SUPPORTED);
  }
}

export const bootOptionCommands: BmcCommand[] = [
  { netFn: NetFn.chassis, cmd: ChassisCmd.setSystemBootOptions, name: "set_system_boot_options", privilege: PrivilegeLevel.operator, handle: setBootOptions },
  { netFn: NetFn.chassis, cmd: ChassisCmd.getSystemBootOptions, name: "get_system_boot_options", privilege: PrivilegeLevel.operator, handle: getBootOptions },
];
