// Version arithmetic for vCenter/ESXi. Builds of vCenter and ESXi are separate number streams
// (and vCenter ISO and appliance builds differ), so builds are never compared across products:
// the comparison is major.minor, then the update level.
import { esxiRelease, vcenterRelease } from "./rules.ts";

export interface VersionLevel {
  major: number;
  minor: number;
  /** The third version component (x.y.Z). */
  patch: number;
  /** Update level (U1, U2, …); undefined when it cannot be told from version or build. */
  update?: number;
}

function parts(version: string): number[] {
  return version.split(".").map((p) => Number.parseInt(p, 10)).map((n) => (Number.isFinite(n) ? n : 0));
}

/** Numeric dotted comparison: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** "7.0 U2a" → 2; "6.5 EP09" → undefined. */
export function updateOfRelease(release: string): number | undefined {
  const m = /\bU(\d+)/.exec(release);
  return m ? Number(m[1]) : undefined;
}

/**
 * From 7.0 on, the third version component is the update level (7.0.2 = 7.0 U2). Before, the
 * version stays x.y.0 for every update, and only a known build tells the update.
 */
export function versionLevel(product: "ESXi" | "vCenter", version: string, build: string): VersionLevel {
  const [major = 0, minor = 0, patch = 0] = parts(version);
  if (major >= 7) return { major, minor, patch, update: patch };
  const known = product === "ESXi" ? esxiRelease(build) : vcenterRelease(build);
  const update = known && compareVersions(known.version, version) === 0 ? updateOfRelease(known.release) : undefined;
  return update === undefined ? { major, minor, patch } : { major, minor, patch, update };
}

/**
 * Whether `a` is older than `b`: true, false, or undefined when the two are on the same
 * major.minor line and the update level of either is unknown.
 */
export function isOlder(a: VersionLevel, b: VersionLevel): boolean | undefined {
  if (a.major !== b.major) return a.major < b.major;
  if (a.minor !== b.minor) return a.minor < b.minor;
  if (a.patch !== b.patch) return a.patch < b.patch;
  if (a.update === undefined || b.update === undefined) return undefined;
  return a.update < b.update;
}
