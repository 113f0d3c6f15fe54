// Builds a BmcCommandContext over a MemoryBackend for handler unit tests.
import { BmcActionQueue } from "../../../src/bmc/action-queue.ts";
import type { BmcCommandContext } from "../../../src/bmc/commands/context.ts";
import { createCommandHandler } from "../../../src/bmc/commands/index.ts";
import { createIdentity } from "../../../src/bmc/identity.ts";
import { MemoryBackend, type MemoryBackendOptions } from "../../../src/bmc/memory-backend.ts";
import type { CommandHandler, IpmiRequest } from "../../../src/ipmi/server/types.ts";
import { silentLogger } from "../../../src/log/logger.ts";

export interface TestBmc {
  ctx: BmcCommandContext;
  backend: MemoryBackend;
  handler: CommandHandler;
  send(netFn: number, cmd: number, data?: number[], extra?: Partial<IpmiRequest>): Promise<{ cc: number; data: number[] }>;
}

export function makeTestBmc(opts: MemoryBackendOptions & { ackMs?: number; sessions?: number } = {}): TestBmc {
  const backend = new MemoryBackend(opts);
  const ctx: BmcCommandContext = {
    backend,
    identity: createIdentity({ name: "bmc-test", vcenter: "vc1", vm: { by: "name", value: "vm-test" } }),
    actions: new BmcActionQueue({ ackMs: opts.ackMs ?? 1000, logger: silentLogger }),
    channel: 1,
    privilegeLimit: 4,
    authTypeSupport: 0x04,
    cipherSuites: [17, 3],
    sessionCount: () => opts.sessions ?? 2,
    lanAddress: () => ({
      ip: Uint8Array.from([192, 0, 2, 10]),
      mask: Uint8Array.from([255, 255, 255, 0]),
      gateway: Uint8Array.from([192, 0, 2, 1]),
    }),
    chassis: { lastPowerOnViaIpmi: false, powerControlFault: false, restartCause: 0, restartChannel: 0 },
    boot: { setInProgress: 0, validBitClearing: 0, bootInfoAck: 0 },
    logger: silentLogger,
  };
  const handler = createCommandHandler(ctx);
  return {
    ctx,
    backend,
    handler,
    async send(netFn, cmd, data = [], extra = {}) {
      const res = await handler({
        netFn,
        cmd,
        data: Uint8Array.from(data),
        lun: 0,
        privilege: 4,
        source: { address: "127.0.0.1", port: 40000 },
        channel: 1,
        session: { id: 1, user: "admin", kind: "rmcp+", cipherSuite: 17, maxPrivilege: 4 },
        ...extra,
      });
      return { cc: res.cc, data: [...(res.data ?? [])] };
    },
  };
}
