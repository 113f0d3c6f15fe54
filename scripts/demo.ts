// The demo: a vCenter simulator, a config that gives four of its VMs virtual BMCs and
// answers SLP for one ESXi host name, and the compiled esxkit serving it. Ctrl-C stops all.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startVcsim } from "../test/support/vcsim.ts";
import { VimClient } from "../src/vsphere/client.ts";
import { listVms } from "../src/vsphere/search.ts";

const root = resolve(import.meta.dir, "..");
const dir = join(root, ".cache/demo");
const BMC_PASSWORD = "demo-password"; // IPMI 1.5 allows at most 16 bytes
const FIRST_PORT = 6230;
const SLP_PORT = 10427;

mkdirSync(join(dir, "state"), { recursive: true });
const sim = await startVcsim({ mode: "vpx", args: ["-cluster", "1", "-host", "2", "-vm", "2"] });
const endpoint = {
  name: "demo",
  url: sim.url,
  username: sim.username,
  password: sim.password,
  tls: { mode: "thumbprint" as const, thumbprint: sim.thumbprintSha256 },
  timeout_ms: 10_000,
};
const client = await VimClient.connect(endpoint);
const vms = (await listVms(client)).slice(0, 4);
await client.close();

const bmcs = vms.map(
  (vm, i) => `
[[bmc]]
vm = "${vm.name}"
address = "127.0.0.1"
port = ${FIRST_PORT + i}
username = "admin"
password = "env:ESXKIT_DEMO_BMC_PASSWORD"
ipmi15 = true
`,
);
const config = `# Written by scripts/demo.ts: esxkit in front of a govmomi vCenter simulator.
[daemon]
log_level = "info"
state_dir = "${join(dir, "state")}"
control_socket = "${join(dir, "control.sock")}"
metrics_listen = "127.0.0.1:19623"

[vcenter.demo]
url = "${sim.url}"
username = "${sim.username}"
password = "env:ESXKIT_DEMO_VC_PASSWORD"
thumbprint = "${sim.thumbprintSha256}"
${bmcs.join("")}
[[slp]]
host = "esxi-demo.example.local"
profile = "lsi-msm"
interfaces = ["127.0.0.1"]
port = ${SLP_PORT}
`;
const configPath = join(dir, "config.toml");
writeFileSync(configPath, config, { mode: 0o600 });

const binary = join(root, "dist/esxkit");
const esxkit = Bun.spawn([binary, "serve", "-c", configPath, "--log-format", "pretty"], {
  env: { ...process.env, ESXKIT_DEMO_VC_PASSWORD: sim.password, ESXKIT_DEMO_BMC_PASSWORD: BMC_PASSWORD },
  stdio: ["ignore", "inherit", "inherit"],
});

const hints = [
  "",
  `esxkit demo: ${vms.length} virtual BMCs in front of the simulator at ${sim.url}`,
  ...vms.map((vm, i) => `  ${vm.name}: 127.0.0.1:${FIRST_PORT + i}`),
  "Try, in another terminal:",
  `  ipmitool -I lanplus -C 17 -H 127.0.0.1 -p ${FIRST_PORT} -U admin -P ${BMC_PASSWORD} chassis power status`,
  `  ipmitool -I lanplus -H 127.0.0.1 -p ${FIRST_PORT} -U admin -P ${BMC_PASSWORD} chassis power cycle`,
  `  ipmitool -I lan -H 127.0.0.1 -p ${FIRST_PORT + 1} -U admin -P ${BMC_PASSWORD} chassis power status   # IPMI 1.5 MD5`,
  `  ipmipower -D LAN_2_0 -h 127.0.0.1:${FIRST_PORT + 2} -u admin -p ${BMC_PASSWORD} --stat`,
  `  ${binary} status -c ${configPath}`,
  `  ${binary} slp find --unicast 127.0.0.1 --port ${SLP_PORT} service:wbem`,
  "  curl -s http://127.0.0.1:19623/metrics",
  "Ctrl-C stops esxkit and the simulator.",
  "",
];
setTimeout(() => process.stderr.write(`${hints.join("\n")}\n`), 1500);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  esxkit.kill("SIGTERM");
  await Promise.race([esxkit.exited, Bun.sleep(6000)]);
  await sim.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
const code = await esxkit.exited;
if (!stopping) {
  await sim.stop();
  process.exit(code);
}
