// What the responder counts: requests, replies and drops, both as process metrics (bounded
// labels) and in the stats of the registrations concerned.
import type { Logger } from "../log/logger.ts";
import { type BoundCounter, metrics } from "../log/metrics.ts";
import type { Registration } from "./registrations.ts";
import { functionName } from "./wire/index.ts";

const requestsTotal = metrics.counter("esxkit_slp_requests_total", "SLP datagrams and TCP messages received, by function and how they arrived");
const repliesTotal = metrics.counter("esxkit_slp_replies_total", "SLP replies sent, by reply function");
const dropsTotal = metrics.counter("esxkit_slp_drops_total", "SLP requests dropped or refused without a reply, by reason");
const replyBytesTotal = metrics.counter("esxkit_slp_reply_bytes_total", "Bytes of SLP replies sent");

/** A bounded label: the RFC 2608 name, or "other" for any other byte. */
function fnLabel(fn: number | undefined): string {
  return fn !== undefined && fn >= 1 && fn <= 11 ? functionName(fn) : "other";
}

/** The series for each label combination, made on first use (labels rendered once, not per packet). */
function bound(cache: Map<number, BoundCounter>, make: () => BoundCounter, key: number): BoundCounter {
  let b = cache.get(key);
  if (!b) {
    b = make();
    cache.set(key, b);
  }
  return b;
}

export class TrafficCounters {
  private readonly requestSeries = new Map<number, BoundCounter>();
  private readonly replySeries = new Map<number, BoundCounter>();
  private readonly replyBytes = replyBytesTotal.labels();
  constructor(private readonly logger: Logger) {}

  drop(reason: string, regs: readonly Registration[], detail?: string, fn?: number): void {
    dropsTotal.inc({ reason });
    for (const r of regs) r.stats.drops++;
    if (this.logger.enabled("debug")) this.logger.debug("SLP request dropped", { reason, function: fn === undefined ? undefined : functionName(fn), detail });
  }

  request(regs: readonly Registration[], fn: number | undefined, transport: "udp" | "tcp", cast: "multicast" | "unicast"): void {
    const now = Date.now();
    for (const r of regs) {
      r.stats.requests++;
      r.stats.lastRequestMs = now;
    }
    const key = (((fn ?? 0) & 0xff) << 2) | (transport === "tcp" ? 2 : 0) | (cast === "multicast" ? 1 : 0);
    bound(this.requestSeries, () => requestsTotal.labels({ function: fnLabel(fn), transport, cast }), key).inc();
  }

  reply(regs: readonly Registration[], replyFn: number, byteLength: number): void {
    bound(this.replySeries, () => repliesTotal.labels({ function: functionName(replyFn) }), replyFn & 0xff).inc();
    this.replyBytes.inc(byteLength);
    for (const r of regs) r.stats.replies++;
  }
}
