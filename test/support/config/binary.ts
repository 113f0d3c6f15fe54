// The compiled binary, built once per test process (`npm run build` → dist/esxkit): the
// deployed form is what these tests exercise.
import { join } from "node:path";

export const root = join(import.meta.dir, "../../..");
export const binary = join(root, "dist/esxkit");
let built = false;

export function buildBinary(): string {
  if (built) return binary;
  const p = Bun.spawnSync([join(root, "node_modules/.bin/bun"), "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`npm run build failed: ${p.stderr.toString()}`);
  built = true;
  return binary;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/esxkit with a clean environment plus `env`. */
export function esxkit(args: string[], env: Record<string, string> = {}, cwd = root): Run {
  const p = Bun.spawnSync([buildBinary(), ...args], { env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env }, cwd, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}
