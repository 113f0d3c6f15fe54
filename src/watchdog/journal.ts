// The audit journal: one JSON object per line, appended and fsync'd before the action it
// records is considered done. Shared by all watchdogs of a daemon (each line names its
// watchdog); never rewritten or truncated by esxkit.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { watchdogDir } from "./store.ts";

export function journalPath(stateDir: string): string {
  return join(watchdogDir(stateDir), "audit.jsonl");
}

export function appendJournal(path: string, record: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "a", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every record of the journal (tests, `esxkit watchdog log`). Lines that do not parse are skipped. */
export function readJournal(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn last line after a crash
    }
  }
  return out;
}
