// Benchmarks measure the shipped binary: a benchmark may use client-side code (wire codecs,
// the RMCP+ client, test peers such as ipmi_sim or the simulator), but it must not import an
// esxkit component (anything else under src/) or a test helper that starts one in-process,
// and it must start `dist/esxkit`. In-process microbenchmarks are allowed only in files whose
// names say so (bench/<area>/inprocess-*.ts).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const benchDir = join(root, "bench");

/**
 * src/ modules a client of esxkit may use: codecs, the RMCP+ client and its crypto, the logger,
 * error classes, the vim25 client (which watches the simulator, the peer, from outside: VM
 * power states, datastore files), and the config schema (to name the defaults a row ran).
 */
const CLIENT_SIDE = [
  "src/ipmi/wire/",
  "src/ipmi/codes/",
  "src/ipmi/client/",
  "src/ipmi/crypto.ts",
  "src/ipmi/secure.ts",
  "src/slp/wire/",
  "src/errors.ts",
  "src/log/",
  "src/net/",
  "src/telnet/",
  "src/vsphere/",
  "src/config/schema.ts",
];
/** Test helpers that run an esxkit component in the calling process. */
const IN_PROCESS_HELPERS: Record<string, string[]> = {
  "test/support/ipmi/peers.ts": ["startEngine", "loseFirstControlReply"],
  "test/support/bmc/service.ts": ["*"],
  "test/support/bmc/backends.ts": ["*"],
  "test/support/bmc/vsphere.ts": ["*"],
  "test/support/slp/responder-main.ts": ["*"],
};

const isInProcess = (file: string) => /^inprocess-/.test(file.split("/").pop()!);

function benchEntries(): string[] {
  const out: string[] = [];
  for (const area of readdirSync(benchDir, { withFileTypes: true })) {
    if (!area.isDirectory() || area.name === "support") continue;
    for (const f of readdirSync(join(benchDir, area.name))) if (f.endsWith(".ts")) out.push(`bench/${area.name}/${f}`);
  }
  return out.sort();
}

interface Import {
  from: string;
  names: string[];
}

/** Value imports of a file (type-only imports are erased and do not count), resolved to repo paths. */
function importsOf(file: string): Import[] {
  const src = readFileSync(join(root, file), "utf8");
  const out: Import[] = [];
  for (const m of src.matchAll(/^import\s+(type\s+)?([^;]*?)\s+from\s+"([^"]+)";/gms)) {
    if (m[1] || !m[3]!.startsWith(".")) continue;
    const clause = m[2]!;
    const braces = /\{([^}]*)\}/.exec(clause)?.[1] ?? "";
    const names = braces
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "" && !n.startsWith("type "))
      .map((n) => n.split(/\s+as\s+/)[0]!);
    const whole = clause.replace(/\{[^}]*\}/, "").replace(/,/g, "").trim();
    if (whole) names.push("*");
    if (names.length === 0) continue;
    out.push({ from: relative(root, resolve(dirname(join(root, file)), m[3]!)), names });
  }
  return out;
}

/** Everything under src/ or a starting helper that `entry` reaches through bench/ files (followed) and its direct imports. */
function violations(entry: string): string[] {
  const bad: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of importsOf(file)) {
      if (imp.from.startsWith("bench/")) visit(imp.from);
      else if (imp.from.startsWith("src/") && !CLIENT_SIDE.some((p) => imp.from.startsWith(p))) bad.push(`${file} imports ${imp.from}`);
      else {
        const starters = IN_PROCESS_HELPERS[imp.from];
        const used = starters && imp.names.filter((n) => starters.includes("*") || starters.includes(n));
        if (used && used.length > 0) bad.push(`${file} imports ${used.join(", ")} from ${imp.from}`);
      }
    }
  };
  visit(entry);
  return bad;
}

/** Reaches bench/support/serve.ts (which spawns dist/esxkit) or names the binary itself. */
function startsBinary(entry: string): boolean {
  const seen = new Set<string>();
  const visit = (file: string): boolean => {
    if (seen.has(file)) return false;
    seen.add(file);
    if (/dist\/esxkit/.test(readFileSync(join(root, file), "utf8"))) return true;
    return importsOf(file).some((i) => i.from.startsWith("bench/") && visit(i.from));
  };
  return visit(entry);
}

const entries = benchEntries();
const measured = entries.filter((f) => !isInProcess(f));

describe("benchmarks drive the binary", () => {
  test("there are benchmarks of the binary in every area that has a daemon path", () => {
    for (const area of ["bench/slp/", "bench/ipmi/", "bench/bmc/"]) expect(measured.some((f) => f.startsWith(area))).toBe(true);
  });

  test.each(measured)("%s imports no esxkit component and starts dist/esxkit", (file) => {
    expect(violations(file)).toEqual([]);
    expect(startsBinary(file)).toBe(true);
  });

  test("the checker itself catches a component import (an in-process file is the example)", () => {
    const inProcess = entries.filter(isInProcess);
    expect(inProcess.length).toBeGreaterThan(0);
    expect(inProcess.some((f) => violations(f).length > 0)).toBe(true);
  });
});
