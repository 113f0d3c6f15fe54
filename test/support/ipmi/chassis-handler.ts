// A trivial in-memory BMC behind the engine, for tests: chassis power, Get Device ID,
// GUIDs, and a call log so tests can count how often a command really ran.
import { CompletionCode } from "../../../src/ipmi/codes/completion.ts";
import type { CommandHandler, IpmiRequest, IpmiResponse } from "../../../src/ipmi/server/engine.ts";

export interface FakeChassis {
  handler: CommandHandler;
  power: { on: boolean };
  calls: IpmiRequest[];
  /** Chassis Control requests actually executed. */
  controls: number[];
}

export function fakeChassis(guid: Uint8Array, opts: { delayMs?: number } = {}): FakeChassis {
  const power = { on: false };
  const calls: IpmiRequest[] = [];
  const controls: number[] = [];
  const handler: CommandHandler = async (req): Promise<IpmiResponse> => {
    calls.push(req);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const key = (req.netFn << 8) | req.cmd;
    switch (key) {
      case 0x0001: // Get Chassis Status
        if (req.data.length !== 0) return { cc: CompletionCode.requestDataLengthInvalid };
        return { cc: 0, data: new Uint8Array([power.on ? 0x01 : 0x00, 0x00, 0x40, 0x00]) };
      case 0x0002: {
        // Chassis Control
        if (req.data.length !== 1) return { cc: CompletionCode.requestDataLengthInvalid };
        const c = req.data[0]! & 0x0f;
        if (c > 5) return { cc: CompletionCode.invalidDataField };
        controls.push(c);
        if (c === 0 || c === 5) power.on = false;
        else if (c === 1 || c === 2 || c === 3) power.on = true;
        return { cc: 0 };
      }
      case 0x0601: // Get Device ID (15 bytes)
        return { cc: 0, data: new Uint8Array([0x20, 0x81, 0x01, 0x00, 0x02, 0xbf, 0x57, 0x1b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]) };
      case 0x0608: // Get Device GUID
      case 0x0637: // Get System GUID
        return { cc: 0, data: guid };
      default:
        return { cc: CompletionCode.invalidCommand };
    }
  };
  return { handler, power, calls, controls };
}
