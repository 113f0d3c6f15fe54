// The in-process ICMP echo (src/net/icmp.ts) with each kind of socket, each run in a network
// namespace of the test's own: the datagram socket as an unprivileged user whose group
// ping_group_range admits, the raw socket with CAP_NET_RAW, and neither (an error, never
// "unreachable"). 192.0.2.1 is routed into the namespace's lo, where nothing answers it.
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const bun = join(root, "node_modules/.bin/bun");
const script = `
import { icmpEcho, icmpMethod } from ${JSON.stringify(join(root, "src/net/icmp.ts"))};
const out = {};
try { out.method = icmpMethod(4); } catch (e) { out.error = e.message; }
for (const a of ["127.0.0.1", "::1", "192.0.2.1"]) { try { out[a] = await icmpEcho(a, 500); } catch (e) { out[a] = "error: " + e.code; } }
console.log(JSON.stringify(out));
`;

function inNetns(setup: string, privileges: string[]): Record<string, string> {
  const cmd = `ip link set lo up && ip route add 192.0.2.0/24 dev lo && ${setup} exec ${privileges.join(" ")} ${bun} -e "$ICMP_SCRIPT"`;
  const p = Bun.spawnSync(["unshare", "-n", "--", "sh", "-c", cmd], { env: { PATH: process.env.PATH ?? "", ICMP_SCRIPT: script }, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  if (p.exitCode !== 0) throw new Error(`exit ${p.exitCode}: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString()) as Record<string, string>;
}

const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"];

test.each<[string, string, string[], Record<string, string>]>([
  ["datagram socket: unprivileged, ping_group_range admits the group", "sysctl -qw net.ipv4.ping_group_range='0 2147483647' &&", [...nobody, "--bounding-set=-all", "--"], { method: "datagram", "127.0.0.1": "reply", "::1": "reply", "192.0.2.1": "timeout" }],
  ["raw socket: ping_group_range 1 0 (Debian's), CAP_NET_RAW as an ambient capability", "", [...nobody, "--bounding-set=-all,+net_raw", "--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw", "--"], { method: "raw", "127.0.0.1": "reply", "::1": "reply", "192.0.2.1": "timeout" }],
  ["neither: an error naming both causes, never unreachable", "", [...nobody, "--bounding-set=-all", "--"], { "127.0.0.1": "error: ESX_ICMP_UNAVAILABLE", "::1": "error: ESX_ICMP_UNAVAILABLE", "192.0.2.1": "error: ESX_ICMP_UNAVAILABLE" }],
])("%s", (_name, setup, privileges, want) => {
  const got = inNetns(setup, privileges);
  const { error, ...rest } = got;
  expect(rest).toEqual(want);
  if (!want.method) {
    expect(error).toContain("ping_group_range 1–0");
    expect(error).toContain("no CAP_NET_RAW");
  }
});
