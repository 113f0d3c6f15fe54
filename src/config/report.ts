// How a ConfigError with many problems is shown to people and logs: the first few in full
// (file:line: key path, code block) and a count of the rest. A file with thousands of
// problems must not produce thousands of screens, nor one log line of a megabyte.
import type { ConfigError } from "../errors.ts";

/** Problems shown in full on a terminal or in a reload log line. */
export const SHOWN_PROBLEMS = 20;

/** A config error's problems as shown: the first `limit` messages, and how many there are in all. */
export interface ShownProblems {
  shown: string[];
  total: number;
}

export function shownProblems(err: ConfigError, limit = SHOWN_PROBLEMS): ShownProblems {
  return { shown: err.all.slice(0, limit).map((e) => e.message), total: err.all.length };
}

/** The closing line counting the problems (or those not shown), or undefined for a single one. */
function countLine({ shown, total }: ShownProblems): string | undefined {
  if (total > shown.length) return `… and ${total - shown.length} more problem${total - shown.length === 1 ? "" : "s"} (${total} in all)`;
  return total > 1 ? `${total} problems` : undefined;
}

/** The shown problems' messages and the count line (if any): a reload log line's `problems`. */
export function problemLines(p: ShownProblems): string[] {
  const count = countLine(p);
  return count ? [...p.shown, count] : p.shown;
}

/**
 * The terminal form, one string: "error: " before each shown problem (its code block under
 * it), then the count line. `config check` and a rejected `reload` print the same.
 */
export function renderProblems(p: ShownProblems): string {
  const count = countLine(p);
  return `${p.shown.map((l) => `error: ${l}\n`).join("")}${count ? `${count}\n` : ""}`;
}
