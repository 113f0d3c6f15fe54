#!/usr/bin/env bun
// Every command but `version` goes through the citty tree; sub-commands load lazily.
// Colour: citty colours only its own error messages, which run.ts prints without the codes,
// so nothing needs to ask whether stdout is a terminal before a command runs.
import { printVersionFast } from "./cli/version-line.ts";

const argv = process.argv.slice(2);
if (!printVersionFast(argv)) {
  const { main } = await import("./cli/index.ts");
  const { runCli } = await import("./cli/run.ts");
  process.exitCode = await runCli(main, argv);
}
export {};
