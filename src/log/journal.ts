// journald's native protocol (systemd.journal-fields(7), "Native Journal Protocol"): one
// datagram per entry on /run/systemd/journal/socket, `FIELD=value\n` for plain values and
// `FIELD\n<64-bit LE length><bytes>\n` for values with newlines. This makes every structured
// field a journal field (`journalctl -u esxkit BMC=lab-vesxi01`). Bun has no AF_UNIX datagram
// sockets, so the two calls go to libc through bun:ffi; if anything is missing the caller
// falls back to the stdout stream.
import { ptr } from "bun:ffi";
import { statSync } from "node:fs";
import { type Libc, loadLibc, SOCK_CLOEXEC, SOCK_DGRAM } from "../net/libc.ts";

export const JOURNAL_SOCKET = "/run/systemd/journal/socket";

const AF_UNIX = 1;
const MSG_NOSIGNAL = 0x4000;

export interface JournalSink {
  /** Sends one entry; false if it could not be sent (the caller writes it elsewhere). */
  send(fields: ReadonlyArray<readonly [string, string]>): boolean;
}

/** A journal field name: upper case letters, digits and "_", not starting with "_" or a digit, ≤ 64 bytes. */
export function journalFieldName(key: string): string {
  let name = key.toUpperCase().replace(/[^A-Z0-9_]/g, "_").replace(/^[_0-9]+/, "");
  if (name === "") name = "FIELD";
  return name.slice(0, 64);
}

/** Encodes one entry in the native protocol. */
export function encodeJournalEntry(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, value] of fields) {
    if (!value.includes("\n")) {
      parts.push(enc.encode(`${name}=${value}\n`));
      continue;
    }
    const bytes = enc.encode(value);
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(bytes.length), true);
    parts.push(enc.encode(`${name}\n`), len, bytes, enc.encode("\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Opens a datagram socket to journald, or undefined when there is none (not Linux, no journald, no libc). */
export function openJournal(path = JOURNAL_SOCKET): JournalSink | undefined {
  if (process.platform !== "linux") return undefined;
  const pathBytes = new TextEncoder().encode(path);
  if (pathBytes.length > 107) return undefined;
  try {
    if (!statSync(path).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch {
    return undefined;
  }
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return undefined;
  // struct sockaddr_un: sa_family (host order u16), then the NUL-terminated path.
  const addr = new Uint8Array(2 + pathBytes.length + 1);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(pathBytes, 2);
  return {
    // A refused or oversized datagram returns -1: the caller writes that entry to stdout instead.
    send(fields) {
      const entry = encodeJournalEntry(fields);
      return Number(libc.sendto(fd, ptr(entry), entry.length, MSG_NOSIGNAL, ptr(addr), addr.length)) === entry.length;
    },
  };
}
