// OData/JSON helpers shared by the resources: ids, links, ETags, and checks of PATCH and
// action bodies that name exactly what was wrong (PropertyUnknown, PropertyValueNotInList…).
import { createHash } from "node:crypto";
import { RedfishRequestError } from "../errors.ts";
import { fail } from "./messages.ts";

export const ROOT = "/redfish/v1";
export type Json = Record<string, unknown>;

export const link = (uri: string) => ({ "@odata.id": uri });

export function resource(type: string, uri: string, id: string, name: string, body: Json): Json {
  return { "@odata.type": type, "@odata.id": uri, Id: id, Name: name, ...body };
}

export function collection(type: string, uri: string, name: string, members: string[]): Json {
  return { "@odata.type": type, "@odata.id": uri, Name: name, Members: members.map(link), "Members@odata.count": members.length };
}

/** A weak ETag over the representation (without its own @odata.etag). */
export function etagOf(body: Json): string {
  const { "@odata.etag": _, ...rest } = body;
  return `W/"${createHash("sha256").update(JSON.stringify(rest)).digest("hex").slice(0, 20)}"`;
}

/** If-Match: "*", or any listed tag equal to ours, weak or strong (sushy retries strong). */
export function ifMatchOk(header: string | null, etag: string): boolean {
  if (header === null) return true;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The body must be an object whose keys are all in `known`; reports the first stranger by its path. */
export function checkKeys(body: unknown, known: readonly string[], path = ""): Json {
  if (!isObject(body)) {
    if (path) throw fail.typeError(path, body, "an object");
    throw new RedfishRequestError(400, "MalformedJSON", "The request body must be a JSON object.");
  }
  for (const k of Object.keys(body)) {
    // Annotations (e.g. @odata.etag echoed back) are not properties.
    if (k.includes("@")) continue;
    if (!known.includes(k)) throw fail.unknownProperty(path ? `${path}.${k}` : k);
  }
  return body;
}

export function enumValue<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
  if (typeof v !== "string") throw fail.typeError(path, v, "a string");
  if (!allowed.includes(v as T)) throw fail.notInList(path, v, allowed);
  return v as T;
}

export function param<T extends string>(action: string, body: Json, name: string, allowed: readonly T[]): T {
  const v = body[name];
  if (v === undefined) throw fail.paramMissing(action, name);
  if (typeof v !== "string") throw fail.paramType(action, name, v, "a string");
  if (!allowed.includes(v as T)) throw fail.paramNotInList(action, name, v, allowed);
  return v as T;
}

/** Action bodies: every key must be a known parameter. */
export function checkParams(action: string, body: unknown, known: readonly string[]): Json {
  if (body === undefined) return {};
  if (!isObject(body)) throw new RedfishRequestError(400, "MalformedJSON", `The body of ${action} must be a JSON object.`);
  for (const k of Object.keys(body)) if (!k.includes("@") && !known.includes(k)) throw fail.paramUnknown(action, k);
  return body;
}
