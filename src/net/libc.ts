// The few libc calls esxkit makes through bun:ffi (node has no AF_UNIX datagram or ICMP
// sockets, Bun's hrtime is not CLOCK_MONOTONIC, node:tty's isatty costs a start, and neither has
// a termios call). Loaded once, on first use.
// A leaf: imports nothing from the project.
import { dlopen, FFIType, read } from "bun:ffi";

export type Libc = {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: unknown, len: number, flags: number, addr: unknown, addrlen: number): number | bigint;
  recv(fd: number, buf: unknown, len: number, flags: number): number | bigint;
  close(fd: number): number;
  clock_gettime(clock: number, ts: unknown): number;
  __errno_location(): unknown;
  isatty(fd: number): number;
  tcgetattr(fd: number, termios: unknown): number;
  tcsetattr(fd: number, when: number, termios: unknown): number;
};

export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

let libc: Libc | undefined;
export function loadLibc(): Libc {
  if (libc) return libc;
  const lib = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
    isatty: { args: [FFIType.i32], returns: FFIType.i32 },
    tcgetattr: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    tcsetattr: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
  libc = lib.symbols as unknown as Libc;
  return libc;
}

/** errno of the last failed call on this thread. */
export function errno(c: Libc): number {
  return read.i32(c.__errno_location() as never, 0);
}
