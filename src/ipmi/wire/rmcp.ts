// RMCP header (DMTF ASF 2.0 section 3.2.2.1): 4 bytes in front of every IPMI-over-LAN datagram.
import { IpmiDecodeError } from "../../errors.ts";
import { need, outBuffer } from "./bytes.ts";
import type { Codec } from "./codec.ts";

export const RMCP_VERSION_1 = 0x06;
/** "No RMCP ACK" sequence number: IPMI always uses it. */
export const RMCP_SEQ_NO_ACK = 0xff;
export const RmcpClass = { asf: 0x06, ipmi: 0x07, oem: 0x08 } as const;

export interface RmcpHeader {
  version: number;
  sequence: number;
  /** Bits 3:0 of the class byte. */
  messageClass: number;
  /** Bit 7 of the class byte: this is an RMCP ACK. */
  ack: boolean;
}

export const RMCP_HEADER_LENGTH = 4;

export const rmcpHeader: Codec<RmcpHeader> = {
  encode(h, buf, offset = 0) {
    const out = outBuffer(buf, offset, RMCP_HEADER_LENGTH, "RMCP header");
    out[offset] = h.version;
    out[offset + 1] = 0;
    out[offset + 2] = h.sequence;
    out[offset + 3] = (h.ack ? 0x80 : 0) | (h.messageClass & 0x0f);
    return out;
  },
  decode(buf, offset = 0) {
    need(buf, offset, RMCP_HEADER_LENGTH, "RMCP header");
    const version = buf[offset]!;
    if (version !== RMCP_VERSION_1) throw new IpmiDecodeError(`RMCP header: version 0x${version.toString(16)} is not 0x06`);
    const cls = buf[offset + 3]!;
    return { version, sequence: buf[offset + 2]!, messageClass: cls & 0x0f, ack: (cls & 0x80) !== 0 };
  },
  encodingLength() {
    return RMCP_HEADER_LENGTH;
  },
};

export function ipmiRmcpHeader(): RmcpHeader {
  return { version: RMCP_VERSION_1, sequence: RMCP_SEQ_NO_ACK, messageClass: RmcpClass.ipmi, ack: false };
}
