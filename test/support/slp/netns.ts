// Two network namespaces joined by a veth pair, for multicast tests. Nothing in them can
// reach any other network: traffic stays between the two namespaces.
import { spawnSync } from "node:child_process";

export interface NetnsPair {
  sa: string;
  ua: string;
  saIf: string;
  uaIf: string;
  saAddr: string;
  uaAddr: string;
  /** A second address of the SA namespace (on its loopback), where the group is not joined. */
  saOther: string;
  destroy(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr || r.error}`);
}

export function createNetnsPair(tag: string): NetnsPair {
  const id = `${tag}${process.pid % 100000}`;
  const sa = `esxkit-${id}-sa`;
  const ua = `esxkit-${id}-ua`;
  const saIf = `es${id}`.slice(0, 15);
  const uaIf = `eu${id}`.slice(0, 15);
  const pair: NetnsPair = {
    sa,
    ua,
    saIf,
    uaIf,
    // TEST-NET-2 and TEST-NET-3 (RFC 5737): never routed, and only inside these namespaces.
    saAddr: "198.51.100.1",
    uaAddr: "198.51.100.2",
    saOther: "203.0.113.1",
    destroy() {
      spawnSync("ip", ["netns", "del", sa], { timeout: 10_000 });
      spawnSync("ip", ["netns", "del", ua], { timeout: 10_000 });
    },
  };
  pair.destroy();
  try {
    ip("netns", "add", sa);
    ip("netns", "add", ua);
    ip("-n", sa, "link", "add", saIf, "type", "veth", "peer", "name", uaIf, "netns", ua);
    for (const [ns, ifn, addr] of [
      [sa, saIf, pair.saAddr],
      [ua, uaIf, pair.uaAddr],
    ] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "addr", "add", `${addr}/24`, "dev", ifn);
      ip("-n", ns, "link", "set", ifn, "up");
      ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", ifn);
    }
    ip("-n", sa, "addr", "add", `${pair.saOther}/32`, "dev", "lo");
  } catch (err) {
    pair.destroy();
    throw err;
  }
  return pair;
}
