// `esxkit redfish thumbprint`: the SHA-256 thumbprint of the Redfish service's certificate,
// for pinning in a client (or comparing with what Ironic/Metal3 saw). Generates the
// self-signed pair into state_dir if serve has not yet done so.
import { defineCommand } from "citty";
import { redfishTls } from "../bmc/redfish-service.ts";
import { UsageError } from "../errors.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { jsonArg, stdout } from "./output.ts";

const thumbprint = defineCommand({
  meta: { name: "thumbprint", examples: ["esxkit redfish thumbprint -c /etc/esxkit/config.toml", "esxkit redfish thumbprint --json"], description: "print the SHA-256 thumbprint of the Redfish certificate" },
  args: { ...configArg, ...jsonArg },
  run({ args }) {
    const config = loadConfigFromArgs(args);
    if (!config.redfish) throw new UsageError(`${config.file} has no [redfish] section`);
    const tls = redfishTls(config.redfish, config.daemon.state_dir);
    if (args.json) stdout(`${JSON.stringify({ thumbprint: tls.thumbprint, certificate: tls.source })}\n`);
    else stdout(`${tls.thumbprint}\n`);
  },
});

export default defineCommand({ meta: { name: "redfish", examples: ["esxkit redfish thumbprint"], description: "the Redfish service's certificate" }, subCommands: { thumbprint } });
