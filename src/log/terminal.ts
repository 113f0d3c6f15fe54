// Is a file descriptor a terminal? Asked at every start (colour, pretty logs), so it must be
// cheap: node:tty's isatty loads Node's net and stream modules, about 8 M instructions, more
// than a whole hello-world start (3 M); libc's isatty through bun:ffi costs almost nothing.
import { loadLibc } from "../net/libc.ts";

export function isTerminal(fd: number): boolean {
  try {
    return loadLibc().isatty(fd) === 1;
  } catch {
    // No glibc to load (should not happen for our Linux build): the slow, portable answer.
    const { isatty } = require("node:tty") as typeof import("node:tty");
    return isatty(fd);
  }
}
