// Replies by request content, so a repeated query costs a hash, a compare and a send instead
// of a decode, a match and an encode. The handler is pure: the same request bytes (the XID
// aside), arriving on the same address and socket, seen by the same registrations, get the
// same reply. The one input that is not in the bytes is which addresses are ours (a PRList
// naming one of them is dropped), and those change with the host's interfaces, so a request
// with a non-empty PRList is never memoised. Entries are keyed by a hash of the bytes and hold
// the bytes themselves: a collision is a miss, never a wrong reply. Bounded in entries and
// request size whatever an attacker sends; cleared whenever the entries change.
import type { Registration } from "./registrations.ts";

export interface MemoAnswer {
  replyFunction: number;
  contributors: readonly Registration[];
}

interface Memo extends MemoAnswer {
  request: Uint8Array;
  local: string;
  viaGroup: boolean;
  regs: readonly Registration[];
  /** The reply; its XID bytes are rewritten for each request before it is sent. */
  reply: Uint8Array;
}

const XID_AT = 10;

/** FNV-1a over the request, the XID bytes left out. */
function contentHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    if (i === XID_AT || i === XID_AT + 1) continue;
    h = Math.imul(h ^ b[i]!, 0x01000193);
  }
  return h >>> 0;
}

function sameContent(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && i !== XID_AT && i !== XID_AT + 1) return false;
  return true;
}

function sameRegs(a: readonly Registration[], b: readonly Registration[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class AnswerMemo {
  private readonly map = new Map<number, Memo>();

  constructor(
    private readonly maxEntries = 256,
    private readonly maxRequestBytes = 512,
  ) {}

  /** The memo key for a UDP request, or undefined when it must always go through the handler. */
  key(data: Uint8Array): number | undefined {
    if (data.length < 16 || data.length > this.maxRequestBytes) return undefined;
    const prListAt = 14 + ((data[12]! << 8) | data[13]!);
    // Every request the handler answers starts its body with the PRList length.
    if (data.length < prListAt + 2 || data[prListAt] !== 0 || data[prListAt + 1] !== 0) return undefined;
    return contentHash(data);
  }

  /**
   * The memoised reply for `data` with `data`'s XID written into it, or undefined. The bytes are
   * the memo's own: send them before anything else runs (a socket send copies them at once).
   */
  get(key: number, data: Uint8Array, local: string, viaGroup: boolean, regs: readonly Registration[]): (MemoAnswer & { bytes: Uint8Array }) | undefined {
    const m = this.map.get(key);
    if (!m || m.local !== local || m.viaGroup !== viaGroup || !sameRegs(m.regs, regs) || !sameContent(m.request, data)) return undefined;
    m.reply[XID_AT] = data[XID_AT]!;
    m.reply[XID_AT + 1] = data[XID_AT + 1]!;
    return { bytes: m.reply, replyFunction: m.replyFunction, contributors: m.contributors };
  }

  put(key: number, data: Uint8Array, local: string, viaGroup: boolean, regs: readonly Registration[], reply: Uint8Array, answer: MemoAnswer): void {
    if (!this.map.has(key) && this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as number);
    this.map.set(key, { ...answer, request: new Uint8Array(data), local, viaGroup, regs: [...regs], reply: new Uint8Array(reply) });
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
