// Decoders for the replies the client's helpers use.
import { IpmiDecodeError } from "../../errors.ts";

export interface ChassisStatus {
  powerOn: boolean;
  powerOverload: boolean;
  interlock: boolean;
  powerFault: boolean;
  powerControlFault: boolean;
  /** 0 stays off, 1 restores previous state, 2 always powers up, 3 unknown. */
  restorePolicy: number;
  lastPowerEvent: number;
  miscState: number;
}

export function parseChassisStatus(d: Uint8Array): ChassisStatus {
  if (d.length < 3) throw new IpmiDecodeError(`Get Chassis Status: reply has ${d.length} bytes, want at least 3`);
  const b = d[0]!;
  return {
    powerOn: (b & 0x01) !== 0,
    powerOverload: (b & 0x02) !== 0,
    interlock: (b & 0x04) !== 0,
    powerFault: (b & 0x08) !== 0,
    powerControlFault: (b & 0x10) !== 0,
    restorePolicy: (b >> 5) & 0x03,
    lastPowerEvent: d[1]!,
    miscState: d[2]!,
  };
}

export interface DeviceId {
  deviceId: number;
  deviceRevision: number;
  providesSdrs: boolean;
  firmwareMajor: number;
  firmwareMinor: number;
  updateInProgress: boolean;
  /** "2.0" for IPMI v2.0. */
  ipmiVersion: string;
  additionalSupport: number;
  manufacturerId: number;
  productId: number;
  auxFirmware?: Uint8Array;
}

function bcd(b: number): number {
  return (b >> 4) * 10 + (b & 0x0f);
}

export function parseDeviceId(d: Uint8Array): DeviceId {
  if (d.length < 11) throw new IpmiDecodeError(`Get Device ID: reply has ${d.length} bytes, want 11 or 15`);
  const out: DeviceId = {
    deviceId: d[0]!,
    deviceRevision: d[1]! & 0x0f,
    providesSdrs: (d[1]! & 0x80) !== 0,
    firmwareMajor: d[2]! & 0x7f,
    updateInProgress: (d[2]! & 0x80) !== 0,
    firmwareMinor: bcd(d[3]!),
    ipmiVersion: `${d[4]! & 0x0f}.${d[4]! >> 4}`,
    additionalSupport: d[5]!,
    manufacturerId: (d[6]! | (d[7]! << 8) | (d[8]! << 16)) & 0x0fffff,
    productId: d[9]! | (d[10]! << 8),
  };
  if (d.length >= 15) out.auxFirmware = d.slice(11, 15);
  return out;
}

/** Get System GUID: 16 bytes, in whatever order the BMC's vendor chose (see watchdog/bmc-identity.ts). */
export function parseSystemGuid(d: Uint8Array): Uint8Array {
  if (d.length < 16) throw new IpmiDecodeError(`Get System GUID: reply has ${d.length} bytes, want 16`);
  return d.slice(0, 16);
}
