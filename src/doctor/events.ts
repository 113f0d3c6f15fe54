// Recent events of one endpoint as doctor facts. The reading (QueryEvents, or an event collector
// where that is not implemented) is src/vsphere/events.ts; the time filter is applied here again
// because the simulator ignores EventFilterSpec.time, and type filtering is done by the checks
// because it matches eventTypeId against class names only.
import type { VimClient } from "../vsphere/client.ts";
import { queryEvents, toEvent } from "../vsphere/events.ts";
import type { VimEvent } from "../vsphere/vim-types.ts";
import type { EventFacts } from "./inventory.ts";

/** The most events one read returns (vCenter's page limit). */
export const MAX_EVENTS = 1000;

function facts(e: VimEvent, endpoint: string, configIssue: boolean): EventFacts {
  const raw = e.raw as Record<string, unknown>;
  const out: EventFacts = {
    endpoint,
    key: String(e.key),
    type: e.type,
    message: e.fullFormattedMessage || e.message || "",
    configIssue,
  };
  if (e.eventTypeId) out.eventTypeId = e.eventTypeId;
  if (e.createdTime) out.createdTime = e.createdTime;
  const hostName = e.host?.name || (raw.objectType === "HostSystem" && typeof raw.objectName === "string" ? raw.objectName : undefined);
  if (hostName) out.hostName = hostName;
  if (e.host?.host) out.hostRef = e.host.host;
  return out;
}

/** One decoded event (e.g. an item of a host's configIssue) as doctor facts. */
export function toEventFacts(v: unknown, endpoint: string, configIssue: boolean): EventFacts {
  return facts(toEvent(v), endpoint, configIssue);
}

/** Events created at or after `since` (the newest MAX_EVENTS). */
export async function readRecentEvents(client: VimClient, since: Date): Promise<EventFacts[]> {
  if (!client.serviceContent.eventManager) return [];
  const events = await queryEvents(client, { beginTime: since, maxCount: MAX_EVENTS });
  return events
    .map((e) => facts(e, client.endpoint.name, false))
    .filter((e) => !e.createdTime || !(Date.parse(e.createdTime) < since.getTime()));
}
