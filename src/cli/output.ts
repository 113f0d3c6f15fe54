// What the CLI prints, written straight to file descriptors 1 and 2. Touching process.stdout
// or process.stderr builds Node stream objects, which costs the compiled binary more at start
// than all of esxkit's own modules together (about 40 M instructions against 3 M for a
// console.log hello world, counted with callgrind). A command prints a few lines and exits,
// so blocking writes are what it wants anyway.
import { writeSync } from "node:fs";

function writeAll(fd: 1 | 2, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // `esxkit … | head` closed the pipe: the reader's choice, not an error.
      if (code === "EPIPE") process.exit(process.exitCode ?? 0);
      // A non-blocking pipe that is full: wait for the reader (a CLI has nothing else to do).
      if (code === "EAGAIN") {
        Bun.sleepSync(1);
        continue;
      }
      throw err;
    }
  }
}

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);
export type Output = typeof stdout;

/** The `--json` flag of every command that prints data. */
export const jsonArg = { json: { type: "boolean", description: "machine-readable JSON output" } } as const;

export function printJson(value: unknown): void {
  stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain left-aligned text table. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  stdout(`${[line(headers), ...rows.map(line)].join("\n")}\n`);
}
