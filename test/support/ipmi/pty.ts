// A command on a pseudo-terminal, played by a script (pty_drive.py): how the SOL tests type
// into ipmitool and ipmiconsole as a person at a terminal does.
import { join } from "node:path";
import { PYTHON, run } from "./peers.ts";

const PTY_DRIVE = join(import.meta.dir, "pty_drive.py");

export type PtyStep = { expect: string; timeout?: number } | { send: string } | { sleep: number } | { wait_file: string; timeout?: number } | { touch: string } | { exit_timeout: number };

export interface PtyResult {
  ok: boolean;
  failed_step: number | null;
  output: string;
  exit_code: number;
  timed_out: boolean;
}

export async function onPty(steps: PtyStep[], cmd: string[], timeoutMs = 30_000): Promise<PtyResult> {
  const r = await run(PYTHON, [PTY_DRIVE, JSON.stringify(steps), "--", ...cmd], timeoutMs);
  try {
    return JSON.parse(r.stdout) as PtyResult;
  } catch {
    throw new Error(`pty driver failed: ${r.stdout} ${r.stderr}`);
  }
}
