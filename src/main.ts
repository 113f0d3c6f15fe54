#!/usr/bin/env bun
import { main } from "./cli/index.ts";
import { runCli } from "./cli/run.ts";

// `esxkit … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(main, process.argv.slice(2));
