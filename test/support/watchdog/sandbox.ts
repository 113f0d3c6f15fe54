// The deployed form for tests: packaging/esxkit.service's own sandbox (its capabilities,
// NoNewPrivileges and user, READ FROM THE UNIT so a change there changes what the test runs),
// emulated with setpriv, inside a network namespace of the test's own (ip + unshare).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

const root = join(import.meta.dir, "../../..");
export const UNIT_FILE = join(root, "packaging/esxkit.service");
export const ESXKIT = join(root, "dist/esxkit");

/** A DynamicUser=yes unit runs as an unnamed uid: emulated with nobody (65534), never root. */
const DYNAMIC_UID = 65534;

export interface UnitSandbox {
  bounding: string[];
  ambient: string[];
  noNewPrivileges: boolean;
  uid: number;
  gid: number;
  /** The unit's RestrictAddressFamilies= (checked, not enforced: setpriv cannot). */
  addressFamilies: string[];
}

/** [Service] key → every value it was given (a key may repeat; an empty assignment resets). */
function serviceKeys(text: string): Map<string, string[]> {
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

const caps = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean).map((c) => c.replace(/^CAP_/i, "").toLowerCase());
const yes = (v: string | undefined) => /^(yes|true|on|1)$/i.test(v ?? "");

export function readUnitSandbox(path = UNIT_FILE): UnitSandbox {
  const keys = serviceKeys(readFileSync(path, "utf8"));
  const last = (k: string) => keys.get(k)?.at(-1);
  const user = last("User");
  let uid = DYNAMIC_UID;
  if (user && !user.startsWith("@") && !yes(last("DynamicUser"))) {
    const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[0] === user);
    uid = entry ? Number(entry.split(":")[2]) : DYNAMIC_UID;
  }
  if (uid === 0) throw new Error(`${path}: runs as root; the sandbox test expects a service user`);
  return {
    // No CapabilityBoundingSet= means the full set, as systemd does.
    bounding: keys.has("CapabilityBoundingSet") ? caps(keys.get("CapabilityBoundingSet")) : ["all"],
    ambient: caps(keys.get("AmbientCapabilities")),
    noNewPrivileges: yes(last("NoNewPrivileges")),
    uid,
    gid: uid,
    addressFamilies: (keys.get("RestrictAddressFamilies") ?? []).flatMap((v) => v.split(/\s+/)),
  };
}

/** setpriv arguments that put a command into `sb`. */
export function setprivArgs(sb: UnitSandbox): string[] {
  const list = (xs: string[]) => ["-all", ...xs.map((c) => (c === "all" ? "+all" : `+${c}`))].join(",");
  return [
    "setpriv",
    `--reuid=${sb.uid}`,
    `--regid=${sb.gid}`,
    "--clear-groups",
    `--bounding-set=${list(sb.bounding)}`,
    // Ambient capabilities must be inheritable (and permitted) to be raised.
    `--inh-caps=${list(sb.ambient)}`,
    `--ambient-caps=${list(sb.ambient)}`,
    ...(sb.noNewPrivileges ? ["--no-new-privs"] : []),
    "--",
  ];
}

/**
 * A network namespace held open by a sleeping process; every command run through `wrap` lives
 * in it. Loopback is up; 192.0.2.0/24 (TEST-NET-1) is routed into `lo` where nothing owns it, so
 * echo requests to it vanish like those to a dead gateway. Nothing leaves the namespace.
 */
export class Netns {
  #holder: Subprocess;

  private constructor(holder: Subprocess) {
    this.#holder = holder;
  }

  static async create(): Promise<Netns> {
    const holder = Bun.spawn(["unshare", "-n", "--", "sleep", "3600"], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
    const ns = new Netns(holder);
    try {
      // Wait until the holder has entered its namespace.
      for (let i = 0; readFileSync(`/proc/${holder.pid}/comm`, "utf8").trim() !== "sleep"; i++) {
        if (i > 100) throw new Error("unshare -n did not start");
        await Bun.sleep(20);
      }
      ns.run("ip", "link", "set", "lo", "up");
      ns.run("ip", "route", "add", "192.0.2.0/24", "dev", "lo");
    } catch (err) {
      await ns.stop();
      throw err;
    }
    return ns;
  }

  /** The prefix that runs a command inside the namespace. */
  get wrap(): string[] {
    return ["nsenter", `--net=/proc/${this.#holder.pid}/ns/net`, "--"];
  }

  run(...argv: string[]): string {
    const p = Bun.spawnSync([...this.wrap, ...argv], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} (in the test netns): exit ${p.exitCode}: ${p.stderr.toString()}`);
    return p.stdout.toString();
  }

  async stop(): Promise<void> {
    this.#holder.kill("SIGKILL");
    await this.#holder.exited;
  }
}
