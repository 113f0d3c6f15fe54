// Events: EventManager.QueryEvents, or an EventHistoryCollector where QueryEvents is not
// implemented (standalone ESXi in the simulator); PostEvent for esxkit's own audit trail.
import { SoapFaultError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { arr, moref, num, obj, str } from "./convert.ts";
import { retrieveOne } from "./properties.ts";
import type { MoRef, SoapObject } from "./soap/types.ts";
import type { VimEvent } from "./vim-types.ts";

export interface EventQuery {
  /** Only events about this entity (and, with recursion, below it). */
  entity?: MoRef;
  recursion?: "self" | "children" | "all";
  /**
   * Event class names ("VmPoweredOnEvent") or EventEx ids ("esx.problem.vmfs.resource.corruptondisk").
   * vCenter matches both; the 0.24 simulator only class names.
   */
  eventTypeIds?: string[];
  beginTime?: Date;
  endTime?: Date;
  /** Most recent events to return (default 100, at most 1000). */
  maxCount?: number;
}

/** EventFilterSpec in XSD field order. */
function filterSpec(q: EventQuery, withMaxCount: boolean): SoapObject {
  const f: SoapObject = {};
  if (q.entity) f.entity = { entity: q.entity, recursion: q.recursion ?? "self" };
  if (q.beginTime || q.endTime) {
    const t: SoapObject = {};
    if (q.beginTime) t.beginTime = q.beginTime.toISOString();
    if (q.endTime) t.endTime = q.endTime.toISOString();
    f.time = t;
  }
  if (q.eventTypeIds?.length) f.eventTypeId = q.eventTypeIds;
  if (withMaxCount) f.maxCount = maxCount(q);
  return f;
}

function maxCount(q: EventQuery): number {
  return Math.min(Math.max(q.maxCount ?? 100, 1), 1000);
}

function entityArg(v: unknown, field: "vm" | "host"): { name: string; ref: MoRef } | undefined {
  const o = obj(v);
  const ref = moref(o[field]);
  return ref ? { name: str(o.name) ?? "", ref } : undefined;
}

export function toEvent(v: unknown): VimEvent {
  const e = obj(v);
  const vm = entityArg(e.vm, "vm");
  const host = entityArg(e.host, "host");
  return {
    key: num(e.key) ?? 0,
    type: str(e.$type) ?? "Event",
    createdTime: str(e.createdTime) ?? "",
    userName: str(e.userName),
    fullFormattedMessage: str(e.fullFormattedMessage),
    eventTypeId: str(e.eventTypeId),
    severity: str(e.severity),
    message: str(e.message),
    vm: vm && { name: vm.name, vm: vm.ref },
    host: host && { name: host.name, host: host.ref },
    raw: e,
  };
}

/**
 * The most recent events matching `q`, oldest first. Uses QueryEvents; where the server
 * answers NotImplemented, a temporary EventHistoryCollector sized to maxCount and its
 * latestPage.
 */
export async function queryEvents(client: VimClient, q: EventQuery = {}): Promise<VimEvent[]> {
  const em = client.serviceContent.eventManager;
  if (!em) throw new Error(`${client.endpoint.name}: the server has no EventManager`);
  let raw: unknown[];
  try {
    raw = arr(await client.call("QueryEvents", em, { filter: filterSpec(q, true) }));
  } catch (err) {
    if (!(err instanceof SoapFaultError) || err.faultType !== "NotImplemented") throw err;
    raw = await readThroughCollector(client, em, q);
  }
  return raw
    .map(toEvent)
    .sort((a, b) => a.key - b.key)
    .slice(-maxCount(q));
}

async function readThroughCollector(client: VimClient, em: MoRef, q: EventQuery): Promise<unknown[]> {
  const collector = moref(await client.call("CreateCollectorForEvents", em, { filter: filterSpec(q, false) }));
  if (!collector) throw new Error("CreateCollectorForEvents returned no collector");
  try {
    await client.call("SetCollectorPageSize", collector, { maxCount: maxCount(q) });
    return arr((await retrieveOne(client, collector, ["latestPage"])).latestPage);
  } finally {
    await client.call("DestroyCollector", collector).catch(() => undefined);
  }
}

export interface PostEventSpec {
  /** EventEx id, e.g. "com.esxkit.watchdog.failover". */
  eventTypeId: string;
  message: string;
  severity?: "info" | "warning" | "error" | "user";
  /** Attach the event to a host and/or VM so it shows in their event lists. */
  host?: { name: string; ref: MoRef };
  vm?: { name: string; ref: MoRef };
}

/** EventManager.PostEvent with an EventEx (the server fills key, chainId, time and user). */
export async function postEvent(client: VimClient, spec: PostEventSpec): Promise<void> {
  const em = client.serviceContent.eventManager;
  if (!em) throw new Error(`${client.endpoint.name}: the server has no EventManager`);
  const ev: SoapObject = {
    $type: "EventEx",
    key: 0,
    chainId: 0,
    createdTime: new Date().toISOString(),
    userName: client.session?.userName ?? client.endpoint.username,
  };
  if (spec.host) ev.host = { name: spec.host.name, host: spec.host.ref };
  if (spec.vm) ev.vm = { name: spec.vm.name, vm: spec.vm.ref };
  ev.fullFormattedMessage = spec.message;
  ev.eventTypeId = spec.eventTypeId;
  ev.severity = spec.severity ?? "info";
  ev.message = spec.message;
  await client.call("PostEvent", em, { eventToPost: ev });
}
