#!/usr/bin/env bun
// citty decides on colour when it is loaded, from NO_COLOR/TERM/CI only: help piped to a
// file or a pager would carry escape codes. Decide here, before it loads.
if (!process.stdout.isTTY && process.env.NO_COLOR === undefined) process.env.NO_COLOR = "1";

// `esxkit … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { main } = await import("./cli/index.ts");
const { runCli } = await import("./cli/run.ts");

process.exitCode = await runCli(main, process.argv.slice(2));
export {};
