// Writes the systemd unit and, if there is none yet, a config skeleton. It never starts
// anything: it prints the systemctl commands to run.
import { defineCommand } from "citty";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import unitTemplate from "../../packaging/esxkit.service" with { type: "text" };
import skeleton from "../../packaging/config-skeleton.toml" with { type: "text" };
import { UsageError } from "../errors.ts";
import { stdout } from "./output.ts";

/** systemd splits ExecStart= on whitespace unless the word is quoted. */
function execWord(path: string): string {
  return /[\s"\\]/.test(path) ? `"${path.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"` : path;
}

export function renderUnit(opts: { binary: string; config: string; user?: string }): string {
  let unit = unitTemplate.replace("@BINARY@", execWord(opts.binary)).replace("@CONFIG@", execWord(opts.config));
  if (opts.user) {
    // A named user replaces the dynamic one; the two do not mix.
    unit = unit.replace("DynamicUser=yes\n", "").replace("@USER_LINE@", `User=${opts.user}`);
  } else unit = unit.replace("@USER_LINE@", "# User=esxkit   (set with --user; DynamicUser allocates one otherwise)");
  return unit;
}

export default defineCommand({
  meta: { name: "install-service", examples: ["sudo esxkit install-service", "sudo /usr/local/bin/esxkit install-service --user esxkit"], description: "write the systemd unit (and a config skeleton if none exists)" },
  args: {
    root: { type: "string", description: "write below this directory instead of / (packaging, tests)", valueHint: "DIR" },
    binary: { type: "string", description: "path of the esxkit binary in the unit (default: this executable)", valueHint: "PATH" },
    user: { type: "string", description: "run as this existing user instead of a dynamic one", valueHint: "NAME" },
    force: { type: "boolean", description: "overwrite an existing unit file" },
  },
  run({ args }) {
    const root = resolve(args.root ?? "/");
    const binary = args.binary ?? process.execPath;
    if (!binary.startsWith("/")) throw new UsageError("--binary: expected an absolute path");
    const configPath = "/etc/esxkit/config.toml";
    const unitPath = join(root, "etc/systemd/system/esxkit.service");
    if (existsSync(unitPath) && !args.force) throw new UsageError(`${unitPath} exists; pass --force to overwrite it`);
    mkdirSync(dirname(unitPath), { recursive: true });
    writeFileSync(unitPath, renderUnit({ binary, config: configPath, user: args.user }), { mode: 0o644 });
    const lines = [`wrote ${unitPath}`];
    const cfg = join(root, configPath);
    if (!existsSync(cfg)) {
      mkdirSync(dirname(cfg), { recursive: true, mode: 0o755 });
      // Readable by the service's (dynamic) user: systemd does not chown ConfigurationDirectory.
      // The skeleton holds no secrets; they belong in credential: references.
      writeFileSync(cfg, skeleton, { mode: 0o644 });
      lines.push(`wrote ${cfg} (a skeleton: edit it, then check it with \`esxkit config check -c ${configPath}\`)`);
    } else lines.push(`kept the existing ${cfg}`);
    lines.push("next: systemctl daemon-reload && systemctl enable --now esxkit", "reload the config later with: systemctl reload esxkit");
    stdout(`${lines.join("\n")}\n`);
  },
});
