// Runs `esxkit slp …` exactly as the CLI will (citty tree + runCli), for subprocess tests,
// before and independently of the lead wiring `slp` into src/cli/index.ts.
import { runCli } from "../../../src/cli/run.ts";
import slp from "../../../src/cli/slp.ts";

process.exitCode = await runCli(slp, process.argv.slice(2));
