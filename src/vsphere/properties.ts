// PropertyCollector reads: ContainerView + RetrievePropertiesEx, with ContinueRetrievePropertiesEx
// paging, and the filter specs the watch shares.
import { SoapFaultError, NotFoundError } from "../errors.ts";
import type { CallOptions, VimClient } from "./client.ts";
import { arr, moref, obj, str, toFault } from "./convert.ts";
import type { MoRef, SoapObject, SoapValue } from "./soap/types.ts";
import type { VimFault } from "./vim-types.ts";

export interface PropertyQuery {
  /** Managed object type, e.g. "VirtualMachine", "HostSystem", "Datastore". */
  type: string;
  /** Property paths, e.g. ["name", "runtime.powerState"]. Empty: references only. */
  paths: string[];
  /** Read exactly these objects. Otherwise all objects of `type` below `root`. */
  refs?: MoRef[];
  /** Container to search (default rootFolder). Ignored when `refs` is given. */
  root?: MoRef;
  /** Search below `root` recursively. Default true. */
  recursive?: boolean;
  /** Page size (RetrieveOptions.maxObjects); the server may use a smaller one. */
  maxObjects?: number;
}

export interface ObjectProps {
  ref: MoRef;
  /** Property path → decoded value. Unset properties are absent. */
  props: Record<string, SoapValue>;
  /** Properties the server could not read (ObjectContent.missingSet), e.g. NoPermission. */
  missing?: { path: string; fault: VimFault }[];
}

/** PropertySpec for one type. */
function propertySpec(type: string, paths: string[]): SoapObject {
  return paths.length ? { type, all: false, pathSet: paths } : { type, all: false };
}

/** A PropertyFilterSpec selecting every object a ContainerView or ListView shows. */
export function viewFilterSpec(view: MoRef, type: string, paths: string[]): SoapObject {
  return {
    propSet: [propertySpec(type, paths)],
    objectSet: [
      {
        obj: view,
        skip: true,
        selectSet: [{ $type: "TraversalSpec", name: "traverseView", type: view.type, path: "view", skip: false }],
      },
    ],
  };
}

/** A PropertyFilterSpec selecting the given objects directly. */
export function objectsFilterSpec(refs: MoRef[], type: string, paths: string[]): SoapObject {
  return {
    propSet: [propertySpec(type, paths)],
    objectSet: refs.map((r) => ({ obj: r, skip: false })),
  };
}

/** ViewManager.CreateContainerView. The view lives until DestroyView or the session ends. */
export async function createContainerView(client: VimClient, root: MoRef, types: string[], recursive = true): Promise<MoRef> {
  const vm = client.serviceContent.viewManager;
  if (!vm) throw new Error(`${client.endpoint.name}: the server has no ViewManager`);
  const ref = moref(await client.call("CreateContainerView", vm, { container: root, type: types, recursive }));
  if (!ref) throw new Error("CreateContainerView returned no view");
  return ref;
}

/** ViewManager.CreateListView over explicit objects; grows and shrinks with ModifyListView. */
export async function createListView(client: VimClient, refs: MoRef[]): Promise<MoRef> {
  const vm = client.serviceContent.viewManager;
  if (!vm) throw new Error(`${client.endpoint.name}: the server has no ViewManager`);
  const ref = moref(await client.call("CreateListView", vm, { obj: refs }));
  if (!ref) throw new Error("CreateListView returned no view");
  return ref;
}

/** View.DestroyView, best effort (the view dies with the session anyway). */
export async function destroyView(client: VimClient, view: MoRef): Promise<void> {
  await client.call("DestroyView", view).catch(() => undefined);
}

function toObjectProps(content: unknown): ObjectProps {
  const c = obj(content);
  const ref = moref(c.obj);
  if (!ref) throw new Error("ObjectContent without obj");
  const props: Record<string, SoapValue> = {};
  for (const p of arr(c.propSet)) {
    const name = str(obj(p).name);
    if (name !== undefined) props[name] = obj(p).val;
  }
  const out: ObjectProps = { ref, props };
  const missing = arr(c.missingSet).map((m) => ({ path: str(obj(m).path) ?? "", fault: toFault(obj(m).fault) }));
  if (missing.length) out.missing = missing;
  return out;
}

/**
 * Run one PropertyFilterSpec through RetrievePropertiesEx and ContinueRetrievePropertiesEx
 * until the server's token runs out. Collector defaults to the service content's.
 */
export async function retrieveWithSpec(
  client: VimClient,
  spec: SoapObject,
  opts: CallOptions & { maxObjects?: number; collector?: MoRef } = {},
): Promise<ObjectProps[]> {
  const pc = opts.collector ?? client.serviceContent.propertyCollector;
  const options: SoapObject = opts.maxObjects ? { maxObjects: opts.maxObjects } : {};
  let result = obj(await client.call("RetrievePropertiesEx", pc, { specSet: [spec], options }, opts));
  const out: ObjectProps[] = [];
  for (;;) {
    for (const o of arr(result.objects)) out.push(toObjectProps(o));
    const token = str(result.token);
    if (!token) return out;
    try {
      result = obj(await client.call("ContinueRetrievePropertiesEx", pc, { token }, opts));
    } catch (err) {
      await client.call("CancelRetrievePropertiesEx", pc, { token }).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Read properties of many objects: either `refs`, or every object of `type` below `root`
 * (a temporary ContainerView). Pages through large results.
 */
export async function retrieveProperties(client: VimClient, q: PropertyQuery, opts: CallOptions = {}): Promise<ObjectProps[]> {
  if (q.refs) {
    if (q.refs.length === 0) return [];
    return retrieveWithSpec(client, objectsFilterSpec(q.refs, q.type, q.paths), { ...opts, maxObjects: q.maxObjects });
  }
  const view = await createContainerView(client, q.root ?? client.serviceContent.rootFolder, [q.type], q.recursive ?? true);
  try {
    return await retrieveWithSpec(client, viewFilterSpec(view, q.type, q.paths), { ...opts, maxObjects: q.maxObjects });
  } finally {
    await destroyView(client, view);
  }
}

/**
 * Properties of one object. Throws NotFoundError when the object does not exist
 * (ManagedObjectNotFound).
 */
export async function retrieveOne(
  client: VimClient,
  ref: MoRef,
  paths: string[],
  opts: CallOptions = {},
): Promise<Record<string, SoapValue>> {
  try {
    const [o] = await retrieveWithSpec(client, objectsFilterSpec([ref], ref.type, paths), opts);
    if (!o) throw new NotFoundError(`${ref.type} ${ref.value} not found`);
    return o.props;
  } catch (err) {
    if (err instanceof SoapFaultError && err.faultType === "ManagedObjectNotFound") {
      throw new NotFoundError(`${ref.type} ${ref.value} not found`);
    }
    throw err;
  }
}
