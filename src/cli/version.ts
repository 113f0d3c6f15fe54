import { defineCommand } from "citty";
import { stdout } from "./output.ts";
import { versionLine } from "./version-line.ts";

export default defineCommand({
  meta: { name: "version", examples: ["esxkit version"], description: "print the esxkit version and the Bun runtime it runs on" },
  run() {
    stdout(`${versionLine()}\n`);
  },
});
