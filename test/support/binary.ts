// The compiled binary, as users run it. Built once per test process (bun test runs the files
// of one invocation in one process), so every file that needs dist/esxkit shares one build.
import { expect } from "bun:test";
import { join } from "node:path";

export const root = join(import.meta.dir, "../..");
export const binary = join(root, "dist/esxkit");
let built = false;

/** Builds dist/esxkit from the working tree (`bun run build`) unless this process already did. */
export function buildBinary(): string {
  if (!built) {
    const build = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root, stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr.toString()}`);
    expect(build.exitCode).toBe(0);
    built = true;
  }
  return binary;
}
