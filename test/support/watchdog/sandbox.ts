// The deployed form for tests: packaging/esxkit.service's own sandbox (its capabilities,
// NoNewPrivileges and user, READ FROM THE UNIT so a change there changes what the test runs),
// emulated with setpriv, inside a network namespace of the test's own (ip + unshare).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { unitPrivileges } from "../../../src/doctor/unit-file.ts";

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

export function readUnitSandbox(path = UNIT_FILE): UnitSandbox {
  const u = unitPrivileges(readFileSync(path, "utf8"));
  let uid = DYNAMIC_UID;
  if (u.user && !u.dynamicUser) {
    const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[0] === u.user);
    uid = entry ? Number(entry.split(":")[2]) : DYNAMIC_UID;
  }
  if (uid === 0) throw new Error(`${path}: runs as root; the sandbox test expects a service user`);
  return { bounding: u.bounding, ambient: u.ambient, noNewPrivileges: u.noNewPrivileges, uid, gid: uid, addressFamilies: u.addressFamilies };
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
