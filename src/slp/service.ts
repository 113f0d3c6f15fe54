// One [[slp]] config entry as a daemon service. Entries on the same port share one
// responder (one socket per address can own port 427), each contributing its services on
// its own interfaces; the responder opens and closes sockets as entries come and go.
import type { SlpConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { buildEntries } from "./entries.ts";
import { oversizedAttributeReplies } from "./datagram-fit.ts";
import { Allowlist, listLocalIPv4 } from "./net.ts";
import { type Registration, SlpResponder } from "./responder.ts";

export const DEFAULT_RATE_PER_SOURCE = 10;
export const DEFAULT_RATE_BURST = 20;
export const DEFAULT_REPLY_BYTES_PER_S = 262_144;

export type SlpServiceStatus = {
  name: string;
  host: string;
  urls: string[];
  addresses: string[];
  lastRequest?: string;
  requests: number;
  replies: number;
  drops: number;
};

export interface SlpService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): SlpServiceStatus;
}

const responders = new Map<number, SlpResponder>();

function responderFor(port: number, logger: Logger): SlpResponder {
  let r = responders.get(port);
  if (!r) {
    r = new SlpResponder({ port, logger });
    responders.set(port, r);
    // A bind failure here is reported by the register() that follows (it runs the same
    // reconcile again); left unhandled it would end the daemon with a failure status.
    r.start().catch(() => {});
  }
  return r;
}

/** Resolves the addresses to serve on: the configured ones, or every IPv4 address of the host. */
export function resolveInterfaces(configured: readonly string[]): string[] {
  if (configured.length > 0) return [...new Set(configured)];
  return [...new Set(listLocalIPv4().map((l) => l.address))];
}

export function createSlpService(cfg: SlpConfig, deps: { logger: Logger; responder?: SlpResponder }): SlpService {
  const logger = deps.logger.child("slp", { slp: cfg.name });
  const entries = buildEntries(cfg, { onChanges: (changes) => logger.warn("attribute list repaired", { changes }) });
  for (const o of oversizedAttributeReplies(entries)) {
    // `config check` refuses this with tcp = false; a service built directly may still have it.
    logger.warn(
      cfg.tcp
        ? "attribute reply exceeds one datagram: UDP replies carry the overflow flag (and only the attributes that fit); clients retry over TCP, which serves the whole list"
        : "attribute reply exceeds one datagram and tcp is off: UDP replies carry the overflow flag, OpenSLP clients retry over TCP and get nothing (set tcp = true)",
      { target: o.target, bytes: o.bytes },
    );
  }
  const registration: Registration = {
    id: cfg.name,
    entries,
    interfaces: resolveInterfaces(cfg.interfaces),
    allow: new Allowlist(cfg.allow),
    tcp: cfg.tcp,
    ratePerSource: cfg.rate_per_source ?? DEFAULT_RATE_PER_SOURCE,
    rateBurst: cfg.rate_burst ?? DEFAULT_RATE_BURST,
    replyBytesPerSecond: cfg.reply_bytes_per_s ?? DEFAULT_REPLY_BYTES_PER_S,
    stats: { requests: 0, replies: 0, drops: 0 },
  };
  let responder: SlpResponder | undefined;

  return {
    name: cfg.name,
    async start() {
      responder = deps.responder ?? responderFor(cfg.port, deps.logger.child("slp"));
      try {
        await responder.register(registration);
      } catch (err) {
        await responder.unregister(registration.id).catch(() => {});
        throw err;
      }
      logger.info("SLP entry advertised", { urls: entries.map((e) => e.url), addresses: registration.interfaces, port: cfg.port, tcp: cfg.tcp });
    },
    async stop() {
      if (!responder) return;
      const r = responder;
      responder = undefined;
      await r.unregister(registration.id);
    },
    status() {
      const s = registration.stats;
      return {
        name: cfg.name,
        host: cfg.host,
        urls: entries.map((e) => e.url),
        addresses: registration.interfaces,
        lastRequest: s.lastRequest?.toISOString(),
        requests: s.requests,
        replies: s.replies,
        drops: s.drops,
      };
    },
  };
}
