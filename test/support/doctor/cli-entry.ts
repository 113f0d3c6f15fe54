// Runs the real top-level command with `doctor` added when src/cli/index.ts does not list it yet,
// under the project's CLI runner (strict flags, exit codes); tests spawn this like the binary.
import { defineCommand } from "citty";
import { main } from "../../../src/cli/index.ts";
import { runCli } from "../../../src/cli/run.ts";

const subs = (typeof main.subCommands === "function" ? await main.subCommands() : await main.subCommands) ?? {};
const root =
  "doctor" in subs ? main : defineCommand({ ...main, subCommands: { ...subs, doctor: () => import("../../../src/cli/doctor.ts").then((m) => m.default) } });

process.exitCode = await runCli(root, process.argv.slice(2));
