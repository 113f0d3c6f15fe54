// The payloads of VMware's option-232 subnegotiations (IAC SB 232 <code> <args> IAC SE). The
// codec sees the unescaped payload after the option byte; IAC doubling is the telnet layer's.
// Sequence and secret are opaque byte strings: the host picks the sequence, the proxy the secret.
// A message that carries both has no length field, so decode splits them by `secretLength`.
import { TelnetDecodeError } from "../errors.ts";
import { VmwareCode as C } from "./vmware-codes.ts";

export type VmwareMessage =
  | { kind: "known-suboptions-1" | "known-suboptions-2"; codes: number[] }
  | { kind: "unknown-suboption-rcvd-1" | "unknown-suboption-rcvd-2"; code: number }
  | { kind: "do-proxy"; direction: "server" | "client"; serviceUri: string }
  | { kind: "will-proxy" | "wont-proxy" }
  /** PEER-OK carries the sequence only, as the document and VMware's own vSPC have it (vSPC.py echoes the secret too). */
  | { kind: "vmotion-begin" | "vmotion-notnow" | "vmotion-peer-ok" | "vmotion-complete" | "vmotion-abort"; seq: Uint8Array }
  | { kind: "vmotion-goahead" | "vmotion-peer"; seq: Uint8Array; secret: Uint8Array }
  | { kind: "vm-vc-uuid" | "vm-name" | "vm-bios-uuid" | "vm-location-uuid"; value: string }
  | { kind: "get-vm-vc-uuid" | "get-vm-name" | "get-vm-bios-uuid" | "get-vm-location-uuid" }
  /** A code this table lacks: the proxy answers UNKNOWN-SUBOPTION-RCVD-2. */
  | { kind: "unknown"; code: number; args: Uint8Array };

export type VmwareKind = Exclude<VmwareMessage["kind"], "unknown">;

const CODE_OF: Record<VmwareKind, number> = {
  "known-suboptions-1": C.KNOWN_SUBOPTIONS_1,
  "known-suboptions-2": C.KNOWN_SUBOPTIONS_2,
  "unknown-suboption-rcvd-1": C.UNKNOWN_SUBOPTION_RCVD_1,
  "unknown-suboption-rcvd-2": C.UNKNOWN_SUBOPTION_RCVD_2,
  "vmotion-begin": C.VMOTION_BEGIN,
  "vmotion-goahead": C.VMOTION_GOAHEAD,
  "vmotion-notnow": C.VMOTION_NOTNOW,
  "vmotion-peer": C.VMOTION_PEER,
  "vmotion-peer-ok": C.VMOTION_PEER_OK,
  "vmotion-complete": C.VMOTION_COMPLETE,
  "vmotion-abort": C.VMOTION_ABORT,
  "do-proxy": C.DO_PROXY,
  "will-proxy": C.WILL_PROXY,
  "wont-proxy": C.WONT_PROXY,
  "vm-vc-uuid": C.VM_VC_UUID,
  "get-vm-vc-uuid": C.GET_VM_VC_UUID,
  "vm-name": C.VM_NAME,
  "get-vm-name": C.GET_VM_NAME,
  "vm-bios-uuid": C.VM_BIOS_UUID,
  "get-vm-bios-uuid": C.GET_VM_BIOS_UUID,
  "vm-location-uuid": C.VM_LOCATION_UUID,
  "get-vm-location-uuid": C.GET_VM_LOCATION_UUID,
};

const KIND_OF = new Map<number, VmwareKind>(Object.entries(CODE_OF).map(([k, v]) => [v, k as VmwareKind]));

const utf8 = new TextEncoder();
const text = new TextDecoder("utf-8", { fatal: false });

function args(m: VmwareMessage): Uint8Array {
  switch (m.kind) {
    case "known-suboptions-1":
    case "known-suboptions-2":
      return Uint8Array.from(m.codes);
    case "unknown-suboption-rcvd-1":
    case "unknown-suboption-rcvd-2":
      return Uint8Array.of(m.code);
    case "do-proxy": {
      const uri = utf8.encode(m.serviceUri);
      const out = new Uint8Array(1 + uri.length);
      out[0] = m.direction === "server" ? 0x53 : 0x43; // 'S' | 'C'
      out.set(uri, 1);
      return out;
    }
    case "vmotion-begin":
    case "vmotion-notnow":
    case "vmotion-peer-ok":
    case "vmotion-complete":
    case "vmotion-abort":
      return m.seq;
    case "vmotion-goahead":
    case "vmotion-peer": {
      const out = new Uint8Array(m.seq.length + m.secret.length);
      out.set(m.seq);
      out.set(m.secret, m.seq.length);
      return out;
    }
    case "vm-vc-uuid":
    case "vm-name":
    case "vm-bios-uuid":
    case "vm-location-uuid":
      return utf8.encode(m.value);
    case "unknown":
      return m.args;
    default:
      return new Uint8Array(0);
  }
}

export interface VmwareDecodeOptions {
  /** How many trailing bytes of GOAHEAD / PEER are the secret; default 4 (vmware-vspc's). */
  secretLength?: number;
}

export const vmwareMessage = {
  /** The subnegotiation payload: code byte, then arguments (unescaped). */
  encode(m: VmwareMessage, buf?: Uint8Array, offset = 0): Uint8Array {
    const a = args(m);
    const out = buf ?? new Uint8Array(offset + 1 + a.length);
    if (offset + 1 + a.length > out.length) throw new RangeError(`vmware encode: need ${1 + a.length} bytes at offset ${offset}`);
    out[offset] = m.kind === "unknown" ? m.code : CODE_OF[m.kind];
    out.set(a, offset + 1);
    return out;
  },
  decode(payload: Uint8Array, opts: VmwareDecodeOptions = {}): VmwareMessage {
    if (payload.length === 0) throw new TelnetDecodeError("vmware-empty", "option 232 subnegotiation without a sub-option code");
    const code = payload[0]!;
    const a = payload.slice(1);
    const kind = KIND_OF.get(code);
    if (!kind) return { kind: "unknown", code, args: a };
    switch (kind) {
      case "known-suboptions-1":
      case "known-suboptions-2":
        return { kind, codes: [...a] };
      case "unknown-suboption-rcvd-1":
      case "unknown-suboption-rcvd-2":
        if (a.length < 1) throw new TelnetDecodeError("vmware-short", `${kind} without the code it refers to`);
        return { kind, code: a[0]! };
      case "do-proxy": {
        const d = a[0];
        if (d !== 0x53 && d !== 0x43) throw new TelnetDecodeError("vmware-do-proxy", "DO-PROXY direction is neither 'S' nor 'C'");
        return { kind, direction: d === 0x53 ? "server" : "client", serviceUri: text.decode(a.slice(1)) };
      }
      case "vmotion-begin":
      case "vmotion-notnow":
      case "vmotion-peer-ok":
      case "vmotion-complete":
      case "vmotion-abort":
        return { kind, seq: a };
      case "vmotion-goahead":
      case "vmotion-peer": {
        const n = Math.min(opts.secretLength ?? 4, a.length);
        return { kind, seq: a.slice(0, a.length - n), secret: a.slice(a.length - n) };
      }
      case "vm-vc-uuid":
      case "vm-name":
      case "vm-bios-uuid":
      case "vm-location-uuid":
        return { kind, value: text.decode(a) };
      default:
        if (a.length > 0) throw new TelnetDecodeError("vmware-extra", `${kind} takes no arguments, got ${a.length} bytes`);
        return { kind } as VmwareMessage;
    }
  },
  encodingLength(m: VmwareMessage): number {
    return 1 + args(m).length;
  },
};
