// `esxkit console` shows the VM's bytes as the VM sent them. The VM ends its lines with "\r\n"
// itself; a terminal's output post-processing (OPOST with ONLCR) would turn that into "\r\r\n".
// stdin.setRawMode(true) leaves OPOST on (libuv and Bun keep it on purpose, so that a program's
// own "\n" still starts a new line), so while attached it is turned off here through termios,
// and when the session ends the terminal gets back the very settings saved before anything was
// changed: before esxkit's last line is printed, and whether or not stdin was the terminal (Bun
// also puts stdio terminals back when the process exits, but that is too late for that line and
// is Bun's business, not a promise).
import { loadLibc } from "../net/libc.ts";

/** glibc's struct termios: 60 bytes on x86_64 and aarch64; a little room to spare. */
const TERMIOS_BYTES = 64;
/** c_oflag is the second tcflag_t (unsigned int) of struct termios. */
const C_OFLAG_INDEX = 1;
const OPOST = 0o1;
/** Apply once what was already written has gone out under the old settings. */
const TCSADRAIN = 1;

export interface SavedTerminal {
  /** Turns output post-processing off (call after setRawMode(true), which does not). */
  outputProcessingOff(): boolean;
  /** Puts back the settings saved at save(), the ones from before raw mode too. Idempotent. */
  restore(): void;
}

/** Saves `fd`'s terminal settings; undefined when `fd` is not a terminal (or libc is missing). */
export function saveTerminal(fd: number): SavedTerminal | undefined {
  let libc: ReturnType<typeof loadLibc>;
  try {
    libc = loadLibc();
  } catch {
    return undefined;
  }
  if (libc.isatty(fd) !== 1) return undefined;
  const saved = new Uint8Array(TERMIOS_BYTES);
  if (libc.tcgetattr(fd, saved) !== 0) return undefined;
  let restored = false;
  return {
    outputProcessingOff() {
      // Read again: raw mode has changed other flags since save(), and those stay as they are.
      const now = new Uint8Array(TERMIOS_BYTES);
      if (libc.tcgetattr(fd, now) !== 0) return false;
      const flags = new Uint32Array(now.buffer, 0, 4);
      flags[C_OFLAG_INDEX] = (flags[C_OFLAG_INDEX] as number) & ~OPOST;
      return libc.tcsetattr(fd, TCSADRAIN, now) === 0;
    },
    restore() {
      if (restored) return;
      restored = true;
      // A terminal that hung up answers EIO: nothing is left to restore then.
      libc.tcsetattr(fd, TCSADRAIN, saved);
    },
  };
}
