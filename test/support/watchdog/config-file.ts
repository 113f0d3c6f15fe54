// A user's config.toml for a simulated cluster: [daemon], one [esxi.NAME] per host (secrets as
// env: references, see clusterEnv) and one [[watchdog]] with only the keys given — everything
// else stays at its documented default.
import { join } from "node:path";
import { BMC_PASSWORD, type Cluster, HOST_PASSWORD, VM_NAME } from "./cluster.ts";

export const clusterEnv = { ESX_PW: HOST_PASSWORD, BMC_PW: BMC_PASSWORD };

export function clusterConfigToml(c: Cluster, dir: string, watchdog: Record<string, unknown> = {}, daemon: Record<string, unknown> = {}): string {
  const toml = (o: Record<string, unknown>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
      .join("\n");
  const hosts = [...c.hosts.values()].map((h) => {
    const e = h.esxi();
    return `[esxi.${h.name}]
url = "${e.url}"
username = "${e.username}"
password = "env:ESX_PW"
thumbprint = "${h.thumbprint}"
timeout_ms = 3000
bmc = { address = "127.0.0.1", port = ${h.bmcPort}, username = "${e.bmc?.username}", password = "env:BMC_PW" }
`;
  });
  return `[daemon]
state_dir = "${join(dir, "state")}"
control_socket = "${join(dir, "run/control.sock")}"
${toml(daemon)}

${hosts.join("\n")}
[[watchdog]]
vm = "${VM_NAME}"
hosts = ${JSON.stringify([...c.hosts.keys()])}
${toml(watchdog)}
`;
}
