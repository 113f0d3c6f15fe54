// Runs `esxkit ipmi …` under the project's CLI runner (exit codes, flag checks), mounted on a
// minimal root so tests do not depend on how src/cli/index.ts is wired.
import { defineCommand } from "citty";
import { runCli } from "../../../src/cli/run.ts";

const root = defineCommand({
  meta: { name: "esxkit" },
  subCommands: { ipmi: () => import("../../../src/cli/ipmi.ts").then((m) => m.default) },
});
process.exitCode = await runCli(root, process.argv.slice(2));
