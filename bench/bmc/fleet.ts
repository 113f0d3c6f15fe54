// A process running N virtual BMCs, as `esxkit serve` would: one vCenter session, one hub,
// one watch, N BMC services on 127.0.0.1. Driven by bench.ts:
//   bun bench/bmc/fleet.ts <spec.json>
// spec: { url, thumbprint, username, password, vms: [names], count, backend: "vsphere"|"memory" }
// Prints one JSON line {"ports": [...]} once every BMC is bound, then
// {"vcenterRequests": n} for each "stats" line on stdin; exits at stdin EOF.
import { readFileSync } from "node:fs";
import type { VmBackend } from "../../src/bmc/backend.ts";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { createBmcService } from "../../src/bmc/service.ts";
import { VsphereBackend } from "../../src/bmc/vsphere-backend.ts";
import { VsphereHub } from "../../src/bmc/vsphere-hub.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { VimClientPool } from "../../src/vsphere/pool.ts";

interface Spec {
  url: string;
  thumbprint: string;
  username: string;
  password: string;
  vms: string[];
  count: number;
  backend: "vsphere" | "memory";
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Spec;
const pool = new VimClientPool(
  [{ name: "vc1", url: spec.url, username: spec.username, password: spec.password, tls: { mode: "thumbprint", thumbprint: spec.thumbprint }, timeout_ms: 10_000 }],
  { logger: silentLogger },
);
const hub = new VsphereHub({ vcenter: "vc1", getClient: () => pool.get("vc1"), logger: silentLogger });

const services = await Promise.all(
  Array.from({ length: spec.count }, async (_, i) => {
    const name = spec.vms[i % spec.vms.length]!;
    const backend: VmBackend =
      spec.backend === "memory"
        ? new MemoryBackend({ power: "on", name })
        : new VsphereBackend({ hub, bmcName: `bmc-${i}`, selector: { by: "name", value: name }, maxStalenessMs: 30_000, logger: silentLogger });
    const svc = createBmcService(
      {
        name: `bmc-${i}`,
        vm: { by: "name", value: name },
        vcenter: "vc1",
        ipmi: true,
        redfish: true,
        address: "127.0.0.1",
        port: 0,
        username: "admin",
        password: "s3cret-Pw",
        privilege: "administrator",
        cipher_suites: [17, 3],
        ipmi15: false,
        allow_insecure_auth: false,
        max_sessions: 16,
        session_timeout_s: 60,
        max_staleness_s: 30,
      },
      { backend, logger: silentLogger },
    );
    await svc.start();
    return svc;
  }),
);
console.log(JSON.stringify({ ports: services.map((s) => s.boundAddress()!.port) }));

for await (const chunk of Bun.stdin.stream()) {
  for (const line of new TextDecoder().decode(chunk).split("\n")) {
    if (line.trim() === "stats") {
      const c = await pool.get("vc1");
      console.log(JSON.stringify({ vcenterRequests: c.stats.requests, watchRequests: hub.watchRequests() }));
    }
  }
}
await Promise.all(services.map((s) => s.stop()));
await hub.close();
await pool.close();
process.exit(0);
