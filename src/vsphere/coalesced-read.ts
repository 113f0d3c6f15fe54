// Reads of the same properties of single objects, asked for at about the same time on one
// session, go out together: one RetrievePropertiesEx per COALESCED_CHUNK objects, not one each.
//
// Why: every BMC reads its VM's CD-ROM when it starts (vsphere-media.ts). With 5,000 BMCs that
// was 5,000 requests at once, and undici opens a connection for every request in flight: ~4,900
// TLS connections to vCenter at once and their answers decoded side by side: 430-474 MB resident
// and 9,949 open descriptors. Coalesced: 50 requests, 5,014 descriptors (one UDP socket per BMC)
// and ~170 MB once the answers are collected (see COLLECT_EVERY_OBJECTS).
//
// Each caller gets what retrieveOne would have given it: vCenter refuses a whole
// RetrievePropertiesEx when one of its objects is gone (ManagedObjectNotFound), so after a
// fault, and for any object the answer lacks, that object is read again on its own.
import { SoapFaultError } from "../errors.ts";
import type { VimClient } from "./client.ts";
import { refKey } from "./convert.ts";
import { retrieveOne, retrieveProperties } from "./properties.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";

/** Objects per request: VM device lists of 100 VMs make a response of ~650 KB of XML. */
export const COALESCED_CHUNK = 100;
/**
 * A burst's answers (XML and decoded trees, ~30 KB per VM) are garbage at once: the runtime is
 * asked for a collection every this many objects, and when a queue runs dry after at least a
 * chunk. Left to itself, JSC lets the heap double before a full collection, and an idle daemon
 * allocates too little to get there: 5,000 BMCs' CD-ROM reads sat as ~100 MB of garbage for
 * ~20 s. (media-transfer.ts does the same for image chunks.)
 */
const COLLECT_EVERY_OBJECTS = 1000;
let readSinceCollect = 0;

interface Wanted {
  ref: MoRef;
  resolve(props: Record<string, SoapValue>): void;
  reject(err: unknown): void;
}

/** The reads waiting for one (client, type, paths); one request runs at a time. */
interface Queue {
  type: string;
  paths: string[];
  wanted: Wanted[];
}

const queues = new WeakMap<VimClient, Map<string, Queue>>();

/**
 * retrieveOne(client, ref, paths), batched with the reads of the same type and paths that
 * arrive before the next turn of the event loop or while an earlier batch is on the wire.
 */
export function readCoalesced(client: VimClient, ref: MoRef, paths: string[]): Promise<Record<string, SoapValue>> {
  const ofClient = queues.get(client) ?? new Map<string, Queue>();
  queues.set(client, ofClient);
  const key = `${ref.type}\n${paths.join("\n")}`;
  let q = ofClient.get(key);
  if (!q) {
    const fresh: Queue = { type: ref.type, paths: [...paths], wanted: [] };
    ofClient.set(key, fresh);
    // One turn of the event loop gathers every caller woken by the same event (a hub resolving
    // its BMCs' VMs wakes them all in one go).
    setImmediate(() => void drain(client, fresh, () => ofClient.delete(key)));
    q = fresh;
  }
  const { wanted } = q;
  return new Promise((resolve, reject) => wanted.push({ ref, resolve, reject }));
}

/** Reads until nobody waits; `done` runs in the same step that saw the queue empty, so no read joins a finished queue. */
async function drain(client: VimClient, q: Queue, done: () => void): Promise<void> {
  let chunk: Wanted[] = [];
  try {
    while (q.wanted.length > 0) {
      chunk = q.wanted.splice(0, COALESCED_CHUNK);
      await readChunk(client, q, chunk);
      collectAfter(q.wanted.length > 0 ? COLLECT_EVERY_OBJECTS : COALESCED_CHUNK);
    }
  } catch (err) {
    // Not a vCenter answer (those settle each caller in readChunk): a bug; nobody waits forever.
    for (const w of [...chunk, ...q.wanted.splice(0)]) w.reject(err);
  } finally {
    done();
  }
}

/** A collection once `objects` were read since the last one. */
function collectAfter(objects: number): void {
  if (readSinceCollect < objects) return;
  readSinceCollect = 0;
  globalThis.Bun?.gc(true);
}

async function readChunk(client: VimClient, q: Queue, chunk: Wanted[]): Promise<void> {
  const refs = new Map(chunk.map((w) => [refKey(w.ref), w.ref]));
  readSinceCollect += refs.size;
  const found = new Map<string, Record<string, SoapValue>>();
  try {
    for (const o of await retrieveProperties(client, { type: q.type, refs: [...refs.values()], paths: q.paths })) found.set(refKey(o.ref), o.props);
  } catch (err) {
    if (!(err instanceof SoapFaultError)) {
      for (const w of chunk) w.reject(err);
      return;
    }
    // vCenter answered, for the request as a whole: ask again for each object alone below.
  }
  for (const w of chunk) {
    const props = found.get(refKey(w.ref));
    if (props) {
      w.resolve(props);
      continue;
    }
    try {
      const alone = await retrieveOne(client, w.ref, q.paths);
      found.set(refKey(w.ref), alone);
      w.resolve(alone);
    } catch (err) {
      w.reject(err);
    }
  }
}
