#!/usr/bin/env bun
// citty decides on colour when it is loaded, from NO_COLOR/TERM/CI only: help piped to a
// file or a pager would carry escape codes. Decide here, before it loads.
// (Not process.stdout.isTTY: building the stdout stream is most of a command's start.)
import { isTerminal } from "./log/terminal.ts";

if (!isTerminal(1) && process.env.NO_COLOR === undefined) process.env.NO_COLOR = "1";

const { main } = await import("./cli/index.ts");
const { runCli } = await import("./cli/run.ts");

process.exitCode = await runCli(main, process.argv.slice(2));
export {};
