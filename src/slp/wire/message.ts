// A whole SLPv2 message: header, body by function ID, and the extension chain.
// decode() is strict about framing: the header length must equal the bytes given (for UDP
// the datagram; for TCP the framer slices one message), reserved flag bits must be zero, and
// extensions must follow the body.
import { SlpDecodeError } from "../../errors.ts";
import { byteLength, type Cursor, cursor, outBuffer } from "./bytes.ts";
import { FunctionId, functionName } from "./function-ids.ts";
import { HEADER_FIXED_LENGTH, header, readHeader, RESERVED_FLAGS, SLP_VERSION, type SlpHeader } from "./header.ts";
import { EXTENSION_HEADER_LENGTH, extensionsLength, readExtensions, type SlpExtension, writeExtensions } from "./extensions.ts";
import { type SrvRqst, readSrvRqst, srvRqst, writeSrvRqst } from "./srv-rqst.ts";
import { type SrvRply, readSrvRply, srvRply, writeSrvRply } from "./srv-rply.ts";
import { type AttrRqst, attrRqst, readAttrRqst, writeAttrRqst } from "./attr-rqst.ts";
import { type AttrRply, attrRply, readAttrRply, writeAttrRply } from "./attr-rply.ts";
import { type SrvTypeRqst, readSrvTypeRqst, srvTypeRqst, writeSrvTypeRqst } from "./srv-type-rqst.ts";
import { type SrvTypeRply, readSrvTypeRply, srvTypeRply, writeSrvTypeRply } from "./srv-type-rply.ts";
import { type SAAdvert, readSAAdvert, saAdvert, writeSAAdvert } from "./sa-advert.ts";
import type { Codec } from "./codec.ts";

interface MessageBase {
  flags?: number;
  xid: number;
  langTag: string;
  extensions?: SlpExtension[];
}

export type SlpMessage = MessageBase &
  (
    | { functionId: typeof FunctionId.SrvRqst; body: SrvRqst }
    | { functionId: typeof FunctionId.SrvRply; body: SrvRply }
    | { functionId: typeof FunctionId.AttrRqst; body: AttrRqst }
    | { functionId: typeof FunctionId.AttrRply; body: AttrRply }
    | { functionId: typeof FunctionId.SrvTypeRqst; body: SrvTypeRqst }
    | { functionId: typeof FunctionId.SrvTypeRply; body: SrvTypeRply }
    | { functionId: typeof FunctionId.SAAdvert; body: SAAdvert }
  );

export type SlpBody = SlpMessage["body"];

interface BodyCodec {
  read(c: Cursor): SlpBody;
  write(out: Uint8Array, o: number, b: never): number;
  length(b: never): number;
}

const BODIES: Record<number, BodyCodec | undefined> = {
  [FunctionId.SrvRqst]: { read: readSrvRqst, write: writeSrvRqst, length: srvRqst.encodingLength },
  [FunctionId.SrvRply]: { read: readSrvRply, write: writeSrvRply, length: srvRply.encodingLength },
  [FunctionId.AttrRqst]: { read: readAttrRqst, write: writeAttrRqst, length: attrRqst.encodingLength },
  [FunctionId.AttrRply]: { read: readAttrRply, write: writeAttrRply, length: attrRply.encodingLength },
  [FunctionId.SrvTypeRqst]: { read: readSrvTypeRqst, write: writeSrvTypeRqst, length: srvTypeRqst.encodingLength },
  [FunctionId.SrvTypeRply]: { read: readSrvTypeRply, write: writeSrvTypeRply, length: srvTypeRply.encodingLength },
  [FunctionId.SAAdvert]: { read: readSAAdvert, write: writeSAAdvert, length: saAdvert.encodingLength },
};

/**
 * Reads and checks the header of the message in [offset, end): version 2, the length equal
 * to the bytes given, no reserved flag bits, an extension offset inside the message.
 */
export function decodeHeader(buf: Uint8Array, offset = 0, end = buf.length): SlpHeader {
  const size = end - offset;
  if (size < HEADER_FIXED_LENGTH) {
    if (size >= 1 && buf[offset] !== SLP_VERSION) {
      throw new SlpDecodeError("version", `header: SLP version ${buf[offset]} at offset ${offset} (only version 2 is spoken)`);
    }
    throw new SlpDecodeError("truncated", `header: ${size} bytes is shorter than the ${HEADER_FIXED_LENGTH}-byte SLPv2 header`);
  }
  const c = cursor(buf, offset, end);
  const h = readHeader(c);
  if (h.length !== size) {
    throw new SlpDecodeError("length-mismatch", `header: length field says ${h.length} bytes but the message has ${size}`);
  }
  if (h.flags & RESERVED_FLAGS) {
    throw new SlpDecodeError("flags", `header: reserved flag bits set (0x${h.flags.toString(16).padStart(4, "0")})`);
  }
  if (h.nextExtOffset !== 0 && h.nextExtOffset < c.pos - offset) {
    throw new SlpDecodeError("ext-offset", `header: extension offset ${h.nextExtOffset} points into the header (ends at ${c.pos - offset})`);
  }
  if (h.nextExtOffset !== 0 && h.nextExtOffset + EXTENSION_HEADER_LENGTH > h.length) {
    throw new SlpDecodeError("ext-offset", `header: extension offset ${h.nextExtOffset} runs past the message length ${h.length}`);
  }
  return h;
}

/** Reads the body of a message whose header `h` was read from `offset`. */
export function decodeBody(h: SlpHeader, buf: Uint8Array, offset = 0): { body: SlpBody; extensions: SlpExtension[] } {
  const bc = BODIES[h.functionId];
  if (!bc) throw new SlpDecodeError("function", `no codec for function ${functionName(h.functionId)}`);
  const bodyStart = offset + HEADER_FIXED_LENGTH + byteLength(h.langTag);
  const msgEnd = offset + h.length;
  const bodyEnd = h.nextExtOffset === 0 ? msgEnd : offset + h.nextExtOffset;
  const c: Cursor = { buf, pos: bodyStart, end: bodyEnd };
  let body: SlpBody;
  try {
    body = bc.read(c);
  } catch (err) {
    // With extensions present, a body that does not fit before them means the offset is wrong.
    if (err instanceof SlpDecodeError && h.nextExtOffset !== 0) {
      throw new SlpDecodeError("ext-offset", `extension offset ${h.nextExtOffset} overlaps the ${functionName(h.functionId)} body (${err.message})`);
    }
    throw err;
  }
  const extensions = h.nextExtOffset === 0 ? [] : readExtensions(buf, offset, msgEnd, h.nextExtOffset, c.pos - offset);
  return { body, extensions };
}

function bodyLength(m: SlpMessage): number {
  const bc = BODIES[m.functionId];
  if (!bc) throw new RangeError(`no codec for function ${functionName(m.functionId)}`);
  return bc.length(m.body as never);
}

export const message: Codec<SlpMessage> = {
  encode(m, buf, offset = 0) {
    const total = message.encodingLength(m);
    if (total > 0xffffff) throw new RangeError(`SLP message: ${total} bytes does not fit a 24-bit length`);
    const out = outBuffer(buf, offset, total, "SLP message");
    const exts = m.extensions ?? [];
    const hLen = HEADER_FIXED_LENGTH + byteLength(m.langTag);
    const bLen = bodyLength(m);
    header.encode(
      {
        version: SLP_VERSION,
        functionId: m.functionId,
        length: total,
        flags: m.flags ?? 0,
        nextExtOffset: exts.length > 0 ? hLen + bLen : 0,
        xid: m.xid,
        langTag: m.langTag,
      },
      out,
      offset,
    );
    BODIES[m.functionId]!.write(out, offset + hLen, m.body as never);
    if (exts.length > 0) writeExtensions(exts, out, offset + hLen + bLen, offset);
    return out;
  },
  decode(buf, offset = 0, end = buf.length) {
    const h = decodeHeader(buf, offset, end);
    const { body, extensions } = decodeBody(h, buf, offset);
    const m = { functionId: h.functionId, flags: h.flags, xid: h.xid, langTag: h.langTag, body } as SlpMessage;
    if (extensions.length > 0) m.extensions = extensions;
    return m;
  },
  encodingLength(m) {
    return HEADER_FIXED_LENGTH + byteLength(m.langTag) + bodyLength(m) + extensionsLength(m.extensions ?? []);
  },
};
