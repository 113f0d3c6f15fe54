// Adapter from esxkit's RMCP+ client (src/ipmi/client/) to the two operations fencing needs.
// The configured cipher suite is tried first; suite 17 falls back to 3 (BMCs whose "auto"
// selection of 17 fails are common), a configured 3 stays 3.
import type { PhysicalBmcConfig } from "../config/types.ts";
import { errorCode } from "../errors.ts";
import { IpmiClient } from "../ipmi/client/client.ts";
import type { Logger } from "../log/logger.ts";
import type { ChassisSession, OpenChassis } from "./fence.ts";

export function cipherOrder(bmc: PhysicalBmcConfig): number[] {
  return bmc.cipher_suite === 17 ? [17, 3] : [3];
}

export function ipmiChassisOpener(logger?: Logger): OpenChassis {
  return async (bmc, opts) => {
    const client = await IpmiClient.connect({
      host: bmc.address,
      port: bmc.port,
      username: bmc.username,
      password: bmc.password,
      cipherSuites: cipherOrder(bmc),
      privilege: bmc.privilege === "operator" ? 3 : 4,
      connectTimeoutMs: opts.timeoutMs,
      commandTimeoutMs: Math.min(opts.timeoutMs, 5000),
      retransmitMs: Math.min(1000, Math.max(200, Math.floor(opts.timeoutMs / 4))),
      logger,
    });
    const session: ChassisSession = {
      powerIsOn: async () => (await client.chassisStatus()).powerOn,
      powerOff: () => client.chassisControl("off"),
      // Get System GUID, or the GUID the BMC sent in RAKP2 when it refuses the command.
      systemGuid: async () => {
        try {
          return { bytes: await client.getSystemGuid(), source: "get_system_guid" };
        } catch (err) {
          if (errorCode(err) !== "ESX_IPMI_COMPLETION") throw err;
          return { bytes: client.bmcGuid, source: "rakp2" };
        }
      },
      close: () => client.close(500),
    };
    return session;
  };
}

