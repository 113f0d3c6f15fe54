// Run inside a network namespace without IPv6 (see service.test.ts): a BMC configured for
// "::" must still come up, and ipmitool must reach it on 127.0.0.1. Prints one JSON line.
import { MemoryBackend } from "../../../src/bmc/memory-backend.ts";
import { ipmitool } from "./clients.ts";
import { startBmc } from "./service.ts";

const bmc = await startBmc(new MemoryBackend({ power: "on" }), { address: "::" });
try {
  const r = await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]);
  console.log(JSON.stringify({ bound: bmc.service.boundAddress(), code: r.code, stdout: r.stdout, stderr: r.stderr }));
} finally {
  await bmc.stop();
}
