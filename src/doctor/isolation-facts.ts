// Facts for the isolation-probe part of check 5: can the ICMP probes of bare-IP
// isolation_addresses run — in this process, and under the installed systemd unit, which is
// what `serve` really runs in (doctor is often run as root, the service is not) — and does any
// isolation address answer right now.
import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import type { WatchdogConfig } from "../config/types.ts";
import { type EchoOutcome, icmpEcho, type IcmpMethod, icmpMethod } from "../net/icmp.ts";
import { type UnitPrivileges, unitPrivileges } from "./unit-file.ts";

/** Where `esxkit install-service` puts the unit. */
export const INSTALLED_UNIT = "/etc/systemd/system/esxkit.service";
/** The uids/gids systemd hands to DynamicUser= services (systemd.exec(5)). */
export const DYNAMIC_ID_RANGE: readonly [number, number] = [61184, 65519];

export interface IsolationFacts {
  watchdog: string;
  /** Bare-IP isolation addresses (ICMP) with what they answered now; "error" when no socket opens. */
  icmp: Array<{ address: string; outcome: EchoOutcome | "error"; detail?: string }>;
  /** How this process sends ICMP, or why it cannot. */
  self: { method?: IcmpMethod; error?: string };
  /** net.ipv4.ping_group_range, when readable. */
  pingGroupRange?: [number, number];
  unit?: { path: string; privileges: UnitPrivileges; gids: readonly [number, number]; runsAsRoot: boolean };
}

function readPingGroupRange(): [number, number] | undefined {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ping_group_range", "utf8").trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined ? [lo, hi] : undefined;
  } catch {
    return undefined;
  }
}

function userGid(user: string): number | undefined {
  if (/^\d+$/.test(user)) return Number(user);
  try {
    const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[0] === user);
    return entry ? Number(entry.split(":")[3]) : undefined;
  } catch {
    return undefined;
  }
}

function readUnit(path: string): IsolationFacts["unit"] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const privileges = unitPrivileges(text);
  const gid = privileges.user && !privileges.dynamicUser ? userGid(privileges.user) : undefined;
  const runsAsRoot = !privileges.dynamicUser && (!privileges.user || privileges.user === "root" || privileges.user === "0");
  const gids: readonly [number, number] = runsAsRoot ? [0, 0] : gid !== undefined ? [gid, gid] : DYNAMIC_ID_RANGE;
  return { path, privileges, gids, runsAsRoot };
}

export async function collectIsolationFacts(w: WatchdogConfig, opts: { unitFile?: string; timeoutMs: number }): Promise<IsolationFacts | undefined> {
  const bare = w.isolation_addresses.filter((a) => isIPv4(a) || isIPv6(a));
  if (bare.length === 0) return undefined;
  let self: IsolationFacts["self"];
  try {
    self = { method: icmpMethod(4) };
  } catch (err) {
    self = { error: (err as Error).message };
  }
  const icmp = await Promise.all(
    bare.map(async (address) => {
      try {
        return { address, outcome: await icmpEcho(address, opts.timeoutMs) };
      } catch (err) {
        return { address, outcome: "error" as const, detail: (err as Error).message };
      }
    }),
  );
  const range = readPingGroupRange();
  const unit = readUnit(opts.unitFile ?? INSTALLED_UNIT);
  return { watchdog: w.name, icmp, self, ...(range ? { pingGroupRange: range } : {}), ...(unit ? { unit } : {}) };
}
