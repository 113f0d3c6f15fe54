// How a ConfigError with many problems is shown to people and logs: the first few in full
// (file:line: key path, code block) and a count of the rest. A file with thousands of
// problems must not produce thousands of screens, nor one log line of a megabyte.
import type { ConfigError } from "../errors.ts";

/** Problems shown in full on a terminal or in a reload log line. */
export const SHOWN_PROBLEMS = 20;

/** The closing line for `shown` problems out of `total`, or undefined for a single problem. */
function countLine(shown: number, total: number): string | undefined {
  if (total > shown) return `… and ${total - shown} more problem${total - shown === 1 ? "" : "s"} (${total} in all)`;
  return total > 1 ? `${total} problems` : undefined;
}

/** The first `limit` problems' messages, and a closing line counting the rest (if any). */
export function problemLines(err: ConfigError, limit = SHOWN_PROBLEMS): string[] {
  const lines = err.all.slice(0, limit).map((e) => e.message);
  const count = countLine(lines.length, err.all.length);
  return count ? [...lines, count] : lines;
}

/**
 * The terminal form, one string: "error: " before each shown problem (its code block under
 * it), then the count line. `config check` and a rejected `reload` print the same.
 */
export function renderProblems(shown: readonly string[], total: number): string {
  const count = countLine(shown.length, total);
  return `${shown.map((l) => `error: ${l}\n`).join("")}${count ? `${count}\n` : ""}`;
}
