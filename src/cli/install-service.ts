// Writes the systemd unit and, if there is none yet, a config skeleton. It never starts
// anything: it prints the systemctl commands to run.
import { defineCommand } from "citty";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import unitTemplate from "../../packaging/esxkit.service" with { type: "text" };
import skeleton from "../../packaging/config-skeleton.toml" with { type: "text" };
import { InstallError, UsageError } from "../errors.ts";
import { stdout } from "./output.ts";

/** Where --copy-binary installs the executable: outside everything the unit's sandbox hides. */
export const INSTALLED_BINARY = "/usr/local/bin/esxkit";

// The unit's PrivateTmp=yes gives the service its own empty /tmp and /var/tmp, and
// ProtectHome=yes makes /home, /root and /run/user inaccessible: a binary there cannot start.
const HIDDEN = [
  { dir: "/tmp", by: "PrivateTmp=yes" },
  { dir: "/var/tmp", by: "PrivateTmp=yes" },
  { dir: "/home", by: "ProtectHome=yes" },
  { dir: "/root", by: "ProtectHome=yes" },
  { dir: "/run/user", by: "ProtectHome=yes" },
];

function hiddenBy(path: string): (typeof HIDDEN)[number] | undefined {
  return HIDDEN.find((h) => path === h.dir || path.startsWith(`${h.dir}/`));
}

/** The sandbox rule that hides `binary` from the service, checking symlink targets too. */
export function hiddenFromUnit(binary: string, followLinks: boolean): { dir: string; by: string } | undefined {
  const direct = hiddenBy(binary);
  if (direct || !followLinks) return direct;
  try {
    return hiddenBy(realpathSync(binary));
  } catch {
    return undefined;
  }
}

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

/**
 * Copies the executable into place the way an upgrade must: a new file next to the target,
 * then rename() over it. Writing into a running executable fails with ETXTBSY
 * ("Text file busy"); a rename replaces the name and the running process keeps the old file.
 */
export function installBinary(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const tmp = `${target}.new-${process.pid}`;
  try {
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new InstallError(`cannot install ${source} as ${target} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

export default defineCommand({
  meta: { name: "install-service", examples: ["sudo ./esxkit install-service --copy-binary", "sudo /usr/local/bin/esxkit install-service --user esxkit"], description: "write the systemd unit (and a config skeleton if none exists)" },
  args: {
    root: { type: "string", description: "write below this directory instead of / (packaging, tests)", valueHint: "DIR" },
    binary: { type: "string", description: "path of the esxkit binary in the unit (default: this executable)", valueHint: "PATH" },
    "copy-binary": { type: "boolean", description: `install a copy of the binary as ${INSTALLED_BINARY} and point the unit at it` },
    user: { type: "string", description: "run as this existing user instead of a dynamic one", valueHint: "NAME" },
    force: { type: "boolean", description: "overwrite an existing unit file that differs" },
  },
  run({ args }) {
    const root = resolve(args.root ?? "/");
    if (args.binary === undefined && /(^|\/)bun(-\w+)?$/.test(process.execPath)) {
      throw new InstallError(`this is ${process.execPath}, not a compiled esxkit: run install-service from dist/esxkit, or pass --binary PATH`);
    }
    const source = args.binary ?? process.execPath;
    if (!source.startsWith("/")) throw new UsageError("--binary: expected an absolute path");
    const copy = Boolean(args["copy-binary"]);
    const binary = copy ? INSTALLED_BINARY : source;
    if (!copy) {
      // Paths (and symlinks) can only be checked on this machine, not inside another --root.
      if (root === "/" && !existsSync(binary)) throw new InstallError(`${binary}: no such file; pass --binary with the path of the esxkit executable, or --copy-binary`);
      const hidden = hiddenFromUnit(binary, root === "/");
      if (hidden) {
        throw new InstallError(
          `${binary} is under ${hidden.dir}, which the unit's ${hidden.by} hides from the service: ` +
            `pass --copy-binary to install a copy as ${INSTALLED_BINARY}, or --binary with a path outside /tmp, /var/tmp, /home, /root and /run/user`,
        );
      }
    }
    const configPath = "/etc/esxkit/config.toml";
    const unitPath = join(root, "etc/systemd/system/esxkit.service");
    const unit = renderUnit({ binary, config: configPath, user: args.user });
    const current = existsSync(unitPath) ? readFileSync(unitPath, "utf8") : undefined;
    if (current !== undefined && current !== unit && !args.force) {
      throw new InstallError(`${unitPath} exists and differs from the unit this would write; pass --force to overwrite it`);
    }
    const lines: string[] = [];
    const target = join(root, INSTALLED_BINARY);
    if (copy && resolve(source) !== target) {
      installBinary(source, target);
      lines.push(`installed ${source} as ${target}`);
    }
    if (current === unit) lines.push(`${unitPath} is already up to date`);
    else {
      mkdirSync(dirname(unitPath), { recursive: true });
      writeFileSync(unitPath, unit, { mode: 0o644 });
      lines.push(`wrote ${unitPath}`);
    }
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
