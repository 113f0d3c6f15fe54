// A BMC service on 127.0.0.1:random for consumer tests, over any VmBackend.
import type { BmcConfig } from "../../../src/config/types.ts";
import type { VmBackend } from "../../../src/bmc/backend.ts";
import { type BmcService, createBmcService } from "../../../src/bmc/service.ts";
import { createLogger, silentLogger } from "../../../src/log/logger.ts";

export const BMC_USER = "admin";
export const BMC_PASSWORD = "s3cret-Pw";

export function bmcConfig(over: Partial<BmcConfig> = {}): BmcConfig {
  return {
    name: "bmc-test",
    vm: { by: "name", value: "vm-test" },
    vcenter: "vc1",
    ipmi: true,
    redfish: true,
    address: "127.0.0.1",
    port: 0,
    username: BMC_USER,
    password: BMC_PASSWORD,
    privilege: "administrator",
    cipher_suites: [17, 3],
    ipmi15: true,
    allow_insecure_auth: false,
    max_sessions: 16,
    session_timeout_s: 60,
    max_staleness_s: 30,
    serial: false,
    ...over,
  };
}

export interface RunningBmc {
  service: BmcService;
  port: number;
  host: string;
  stop(): Promise<void>;
}

export async function startBmc(backend: VmBackend, over: Partial<BmcConfig> = {}, ackMs = 500): Promise<RunningBmc> {
  const logger = process.env.BMC_DEBUG ? createLogger({ level: "debug", format: "pretty" }) : silentLogger;
  const service = createBmcService(bmcConfig(over), { backend, logger, ackMs });
  await service.start();
  const a = service.boundAddress();
  if (!a) throw new Error("BMC did not bind");
  return { service, port: a.port, host: a.address, stop: () => service.stop() };
}
