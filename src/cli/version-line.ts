// The version line, apart from the command tree: `esxkit version` is the first thing scripts
// and support ask, and answering it must not load the argument parser (citty pulls in
// node:util, most of a start) or node:fs.
import { VERSION } from "../version.ts";

export const versionLine = (): string => `esxkit ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})`;

/** `esxkit version`, `--version` and `-v` when given alone; false for any other command line. */
export function printVersionFast(argv: readonly string[]): boolean {
  if (argv.length !== 1) return false;
  const arg = argv[0];
  if (arg !== "version" && arg !== "--version" && arg !== "-v") return false;
  // console.log, not the CLI's writeSync: one short line, and node:fs would double the start.
  console.log(arg === "version" ? versionLine() : VERSION);
  return true;
}
