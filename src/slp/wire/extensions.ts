// Extensions (RFC 2608 §9.1): id(2) | next-extension-offset(3) | data. Offsets count from the
// start of the message. The chain is walked with strictly increasing offsets, so a loop (the
// CVE-2010-3609 class) or a backwards jump is refused in O(n), and every extension must lie
// after the body and inside the message.
import { SlpDecodeError } from "../../errors.ts";
import { outBuffer, writeU16, writeU24 } from "./bytes.ts";

export interface SlpExtension {
  id: number;
  data: Uint8Array;
}

/** IDs 0x4000-0x7FFF must be understood or the request refused (OPTION_NOT_UNDERSTOOD). */
export function isMandatoryExtension(id: number): boolean {
  return id >= 0x4000 && id <= 0x7fff;
}

export const EXTENSION_HEADER_LENGTH = 5;

/**
 * Reads the extension chain of the message at `msgStart` whose header says `firstOffset`.
 * `bodyEnd` is where the body stopped (relative to the buffer), `msgEnd` the message end.
 */
export function readExtensions(buf: Uint8Array, msgStart: number, msgEnd: number, firstOffset: number, minOffset: number): SlpExtension[] {
  const out: SlpExtension[] = [];
  const length = msgEnd - msgStart;
  let offset = firstOffset;
  let previous = -1;
  while (offset !== 0) {
    if (offset <= previous) {
      throw new SlpDecodeError("ext-loop", `extension chain: offset ${offset} does not move past ${previous} (loop)`);
    }
    if (offset < minOffset) {
      throw new SlpDecodeError("ext-offset", `extension at offset ${offset} overlaps the header or body (which end at ${minOffset})`);
    }
    if (offset + EXTENSION_HEADER_LENGTH > length) {
      throw new SlpDecodeError("ext-offset", `extension at offset ${offset} runs past the message length ${length}`);
    }
    const at = msgStart + offset;
    const id = (buf[at]! << 8) | buf[at + 1]!;
    const next = (buf[at + 2]! << 16) | (buf[at + 3]! << 8) | buf[at + 4]!;
    if (next !== 0 && next < offset + EXTENSION_HEADER_LENGTH) {
      throw new SlpDecodeError("ext-loop", `extension at offset ${offset}: next offset ${next} points back into it (loop)`);
    }
    const dataEnd = next === 0 ? length : next;
    if (dataEnd > length) {
      throw new SlpDecodeError("ext-offset", `extension at offset ${offset}: next offset ${next} is past the message length ${length}`);
    }
    out.push({ id, data: buf.slice(at + EXTENSION_HEADER_LENGTH, msgStart + dataEnd) });
    previous = offset;
    offset = next;
  }
  return out;
}

export function extensionsLength(exts: readonly SlpExtension[]): number {
  let n = 0;
  for (const e of exts) n += EXTENSION_HEADER_LENGTH + e.data.length;
  return n;
}

/** Writes the chain at `offset` of `buf`, whose message starts at `msgStart`. */
export function writeExtensions(exts: readonly SlpExtension[], buf: Uint8Array | undefined, offset: number, msgStart: number): Uint8Array {
  const out = outBuffer(buf, offset, extensionsLength(exts), "extensions");
  let o = offset;
  exts.forEach((e, i) => {
    const next = i === exts.length - 1 ? 0 : o + EXTENSION_HEADER_LENGTH + e.data.length - msgStart;
    writeU16(out, o, e.id);
    writeU24(out, o + 2, next);
    out.set(e.data, o + EXTENSION_HEADER_LENGTH);
    o += EXTENSION_HEADER_LENGTH + e.data.length;
  });
  return out;
}
