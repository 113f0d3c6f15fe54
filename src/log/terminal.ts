// Is a file descriptor a terminal? Asked at every start (colour, pretty logs), so it must be
// cheap: node:tty's isatty loads Node's net and stream modules, about 8 M instructions, more
// than a whole hello-world start (3 M); libc's isatty through bun:ffi costs almost nothing.
import { dlopen, FFIType } from "bun:ffi";

let libcIsatty: ((fd: number) => number) | undefined;

export function isTerminal(fd: number): boolean {
  if (!libcIsatty) {
    try {
      const lib = dlopen("libc.so.6", { isatty: { args: [FFIType.i32], returns: FFIType.i32 } });
      libcIsatty = (n) => lib.symbols.isatty(n) as number;
    } catch {
      // Not glibc (should not happen for our Linux build): the slow, portable answer.
      const { isatty } = require("node:tty") as typeof import("node:tty");
      libcIsatty = (n) => (isatty(n) ? 1 : 0);
    }
  }
  return libcIsatty(fd) === 1;
}
