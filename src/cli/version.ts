import { defineCommand } from "citty";
import { VERSION } from "../version.ts";
import { stdout } from "./output.ts";

export default defineCommand({
  meta: { name: "version", examples: ["esxkit version"], description: "print the esxkit version and the Bun runtime it runs on" },
  run() {
    stdout(`esxkit ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})\n`);
  },
});
