// Does each attribute list fit one UDP reply? An AttrRply over UDP that does not fit goes
// out with the overflow flag and only the attributes that fit; OpenSLP's libslp (what
// MegaRAID Storage Manager and LSI Storage Authority use) then discards it and asks again
// over TCP. With tcp = false nothing answers there, and the client gets nothing at all
// (SLP_NETWORK_ERROR, -23). So with tcp off an oversized list is a config error.
import type { Config, SlpConfig } from "../config/types.ts";
import { mergeAttributes, serializeAttrList } from "./attributes.ts";
import { buildEntries, type ServiceEntry } from "./entries.ts";
import { UDP_MAX_REPLY } from "./handler.ts";

/** Header with the "en" language tag (14 + 2), error code, list length and #auths (5). */
const ATTR_RPLY_OVERHEAD = 14 + 2 + 5;

export interface Oversize {
  /** The URL (AttrRqst by URL) or the service type (by type, the entries' lists merged). */
  target: string;
  bytes: number;
}

/** The AttrRply lists, by URL and by type, that exceed one datagram. */
export function oversizedAttributeReplies(entries: readonly ServiceEntry[]): Oversize[] {
  const out: Oversize[] = [];
  const byType = new Map<string, ServiceEntry[]>();
  for (const e of entries) {
    const bytes = ATTR_RPLY_OVERHEAD + e.attrListBytes.length;
    if (bytes > UDP_MAX_REPLY) out.push({ target: e.url, bytes });
    byType.set(e.typeKey, [...(byType.get(e.typeKey) ?? []), e]);
  }
  for (const [type, group] of byType) {
    if (group.length < 2) continue;
    const bytes = ATTR_RPLY_OVERHEAD + Buffer.byteLength(serializeAttrList(mergeAttributes(group.map((e) => e.attributes))));
    if (bytes > UDP_MAX_REPLY) out.push({ target: type, bytes });
  }
  return out;
}

type Segment = string | number;

/** A config check (LoadOptions.checks): [[slp]] entries with tcp = false whose attributes overflow a datagram. */
export function checkSlpDatagrams(config: Config, problem: (path: Segment[], detail: string) => void): void {
  config.slp.forEach((s: SlpConfig, i) => {
    if (s.tcp) return;
    let entries: ServiceEntry[];
    try {
      entries = buildEntries(s);
    } catch (err) {
      // The same failure would stop `serve` from starting the entry: say so now.
      problem(["slp", i, s.attributes_file !== undefined ? "attributes_file" : "attributes"], (err as Error).message);
      return;
    }
    for (const o of oversizedAttributeReplies(entries)) {
      problem(
        ["slp", i, "tcp"],
        `the attribute reply for ${o.target} is ${o.bytes} bytes, more than one ${UDP_MAX_REPLY}-byte UDP datagram: it goes out with the overflow flag, ` +
          "OpenSLP clients (MegaRAID Storage Manager) then retry over TCP, and with tcp = false they get nothing (error -23); set tcp = true (or trim the attributes)",
      );
    }
  });
}
