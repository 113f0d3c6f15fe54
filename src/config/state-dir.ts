// Is state_dir usable? The watchdog's persisted state (what stops a second power-on after a
// restart) and the BMCs' boot-restore notes live there, so `config check` and `serve` refuse a
// directory esxkit cannot write instead of running without them.
import { accessSync, constants, closeSync, openSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.code === "EACCES" ? ", permission denied" : e.code === "EROFS" ? ", read-only file system" : ""}` : String(err);
}

function who(): string {
  return `uid ${process.getuid?.() ?? "?"}`;
}

/**
 * undefined when `dir` is writable by this process (or can be created: its nearest existing
 * parent is writable), else why not, naming the path. An existing directory is tested by
 * creating and removing a file in it: access(2) would not see a read-only mount for root.
 */
export function stateDirProblem(dir: string): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return `${dir} cannot be read (${errnoText(err)})`;
    let parent = dirname(dir);
    while (parent !== dirname(parent)) {
      try {
        statSync(parent);
        break;
      } catch {
        parent = dirname(parent);
      }
    }
    try {
      accessSync(parent, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (e) {
      return `${dir} does not exist and cannot be created: ${parent} is not writable by ${who()} (${errnoText(e)})`;
    }
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const probe = join(dir, `.esxkit-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx", 0o600));
    rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return `${dir} is not writable by ${who()} (${errnoText(err)})`;
  }
}
