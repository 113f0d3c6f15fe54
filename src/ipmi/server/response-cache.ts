// Per-session memory of recent answers, so a retransmitted request is answered again
// instead of being executed again (a power command must never run twice).
//
// An entry is found by:
//  - the session sequence number: a byte-identical retransmission or replay;
//  - rqSeq + netFn + cmd + data within RETRY_WINDOW_MS: a client retry that was wrapped
//    in a new session sequence number (the IPMB rqSeq identifies the request, IPMI v2.0
//    section 5.8 "sequence number expiration"; ipmitool, pyghmi);
//  - netFn + cmd + data equal to the session's latest request, within RETRY_WINDOW_MS:
//    freeipmi builds every retransmission afresh, with a new rqSeq as well. A request that
//    repeats the one just before it, with nothing in between, is taken for such a retry.
import { equalBytes } from "../wire/bytes.ts";
import type { IpmiRequestMessage } from "../wire/message.ts";
import type { IpmiResponse } from "./types.ts";

export const RETRY_WINDOW_MS = 5000;
const MAX_ENTRIES = 32;

export interface CachedAnswer {
  request: IpmiRequestMessage;
  /** Settles with the response; present while the handler runs, too. */
  response: Promise<IpmiResponse>;
}

interface Entry extends CachedAnswer {
  sequence: number;
  at: number;
}

export class ResponseCache {
  private entries: Entry[] = [];

  bySequence(sequence: number): CachedAnswer | undefined {
    return this.entries.find((e) => e.sequence === sequence);
  }

  byRequest(req: IpmiRequestMessage, now: number): CachedAnswer | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (now - e.at > RETRY_WINDOW_MS) continue;
      const r = e.request;
      if (r.rqSeq === req.rqSeq && r.netFn === req.netFn && r.cmd === req.cmd && equalBytes(r.data, req.data)) return e;
    }
    return undefined;
  }

  /** A retry of a recent request: same rqSeq and content, or same content as the latest one. */
  retryOf(req: IpmiRequestMessage, now: number): CachedAnswer | undefined {
    const hit = this.byRequest(req, now);
    if (hit) return hit;
    const last = this.entries.at(-1);
    if (!last || now - last.at > RETRY_WINDOW_MS) return undefined;
    const r = last.request;
    return r.netFn === req.netFn && r.cmd === req.cmd && equalBytes(r.data, req.data) ? last : undefined;
  }

  add(sequence: number, request: IpmiRequestMessage, at: number, response: Promise<IpmiResponse>): void {
    this.entries.push({ sequence, request, at, response });
    if (this.entries.length > MAX_ENTRIES) this.entries.shift();
  }

  get size(): number {
    return this.entries.length;
  }
}
