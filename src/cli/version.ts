import { defineCommand } from "citty";
import { VERSION } from "../version.ts";

export default defineCommand({
  meta: { name: "version", examples: ["esxkit version"], description: "print the esxkit version and the Bun runtime it runs on" },
  run() {
    process.stdout.write(`esxkit ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})\n`);
  },
});
