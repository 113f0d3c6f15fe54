// What a systemd unit grants the process it starts, as far as esxkit's probes care: the
// capability sets, NoNewPrivileges and the user. Read from the installed unit by `doctor`, and by
// the sandbox tests from packaging/esxkit.service.

/** [Service] key → every value it was given in order (an empty assignment resets the list). */
export function serviceKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let inService = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      inService = line === "[Service]";
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!inService || !m) continue;
    const [key, value] = [m[1] as string, (m[2] as string).trim()];
    keys.set(key, value === "" ? [] : [...(keys.get(key) ?? []), value]);
  }
  return keys;
}

export interface UnitPrivileges {
  /** Lower-case names without CAP_ ("net_raw"); ["all"] when the unit sets no bounding set. */
  bounding: string[];
  ambient: string[];
  noNewPrivileges: boolean;
  /** User=, when set (a name or a number). */
  user?: string;
  dynamicUser: boolean;
  addressFamilies: string[];
}

const caps = (values: string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(/\s+/))
    .filter(Boolean)
    .map((c) => c.replace(/^CAP_/i, "").toLowerCase());
const yes = (v: string | undefined) => /^(yes|true|on|1)$/i.test(v ?? "");

export function unitPrivileges(text: string): UnitPrivileges {
  const keys = serviceKeys(text);
  const last = (k: string) => keys.get(k)?.at(-1);
  const user = last("User");
  return {
    bounding: keys.has("CapabilityBoundingSet") ? caps(keys.get("CapabilityBoundingSet")) : ["all"],
    ambient: caps(keys.get("AmbientCapabilities")),
    noNewPrivileges: yes(last("NoNewPrivileges")),
    ...(user && !user.startsWith("@") ? { user } : {}),
    dynamicUser: yes(last("DynamicUser")),
    addressFamilies: (keys.get("RestrictAddressFamilies") ?? []).flatMap((v) => v.split(/\s+/)),
  };
}

/** Does a process started by this unit hold `cap` (effective, as a non-root user through ambient)? */
export function unitHasCapability(u: UnitPrivileges, cap: string, runsAsRoot: boolean): boolean {
  const bounded = u.bounding.includes("all") || u.bounding.includes(cap);
  return bounded && (runsAsRoot || u.ambient.includes(cap));
}
