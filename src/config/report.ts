// How a ConfigError with many problems is shown to people and logs: the first few in full
// (file:line: key path, code block) and a count of the rest. A file with thousands of
// problems must not produce thousands of screens, nor one log line of a megabyte.
import type { ConfigError } from "../errors.ts";

/** Problems shown in full on a terminal or in a reload log line. */
export const SHOWN_PROBLEMS = 20;

/** The first `limit` problems' messages, and a closing line counting the rest (if any). */
export function problemLines(err: ConfigError, limit = SHOWN_PROBLEMS): string[] {
  const all = err.all;
  const lines = all.slice(0, limit).map((e) => e.message);
  if (all.length > limit) lines.push(`… and ${all.length - limit} more problem${all.length - limit === 1 ? "" : "s"} (${all.length} in all)`);
  else if (all.length > 1) lines.push(`${all.length} problems`);
  return lines;
}
