// The BMC's command table and the CommandHandler the session engine calls.
import { CompletionCode } from "../../ipmi/codes/completion.ts";
import { defaultRequiredPrivilege } from "../../ipmi/codes/privilege.ts";
import type { CommandHandler, IpmiRequest, IpmiResponse } from "../../ipmi/server/types.ts";
import { completionCodeFor } from "../error-codes.ts";
import { appCommands } from "./app.ts";
import { bootOptionCommands } from "./boot-options.ts";
import { chassisCommands } from "./chassis.ts";
import type { BmcCommand, BmcCommandContext } from "./context.ts";
import { transportCommands } from "./transport.ts";

export const BMC_COMMANDS: readonly BmcCommand[] = [...appCommands, ...chassisCommands, ...bootOptionCommands, ...transportCommands];

const key = (netFn: number, cmd: number) => (netFn << 8) | cmd;
const TABLE = new Map<number, BmcCommand>(BMC_COMMANDS.map((c) => [key(c.netFn, c.cmd), c]));

export function findCommand(netFn: number, cmd: number): BmcCommand | undefined {
  return TABLE.get(key(netFn, cmd));
}

/** For the engine's privilege check: our table first, the engine's defaults otherwise. */
export function requiredPrivilege(netFn: number, cmd: number): number {
  return findCommand(netFn, cmd)?.privilege ?? defaultRequiredPrivilege(netFn, cmd);
}

/** A metric-friendly name of any command, known or not. */
export function commandName(netFn: number, cmd: number): string {
  return findCommand(netFn, cmd)?.name ?? `0x${netFn.toString(16).padStart(2, "0")}_0x${cmd.toString(16).padStart(2, "0")}`;
}

export interface DispatchObserver {
  (req: IpmiRequest, res: IpmiResponse, name: string): void;
}

/**
 * Build the engine's CommandHandler. Unknown commands (including ipmitool's PICMG/HPM
 * probes on netFn 2C) get C1h; a handler that throws gets the code for its error.
 */
export function createCommandHandler(ctx: BmcCommandContext, observe?: DispatchObserver): CommandHandler {
  return async (req) => {
    const command = findCommand(req.netFn, req.cmd);
    let res: IpmiResponse;
    if (!command || req.lun !== 0) {
      res = { cc: command ? CompletionCode.invalidCommandForLun : CompletionCode.invalidCommand };
    } else {
      try {
        res = await command.handle(req, ctx);
      } catch (err) {
        ctx.logger.warn("command failed", { command: command.name, err });
        res = { cc: completionCodeFor(err) };
      }
    }
    if (res.cc !== 0 && res.data) res = { cc: res.cc };
    observe?.(req, res, command?.name ?? commandName(req.netFn, req.cmd));
    return res;
  };
}
