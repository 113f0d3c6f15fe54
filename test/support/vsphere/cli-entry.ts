// Runs `vcenter` and `vm` under the project's CLI runner (strict flags, exit codes) until
// they are wired into src/cli/index.ts; tests spawn this like the real binary.
import { defineCommand } from "citty";
import { runCli } from "../../../src/cli/run.ts";

const root = defineCommand({
  meta: { name: "esxkit" },
  subCommands: {
    vcenter: () => import("../../../src/cli/vcenter.ts").then((m) => m.default),
    vm: () => import("../../../src/cli/vm.ts").then((m) => m.default),
  },
});

process.exitCode = await runCli(root, process.argv.slice(2));
