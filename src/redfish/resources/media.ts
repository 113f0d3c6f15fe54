// VirtualMedia under a Manager (python-sushy 4.x looks only there) and under a System
// (newer sushy): the same devices, the same actions. InsertMedia waits for the transfer up
// to mediaWaitMs (sushy and Ironic wait on the POST with no read timeout), then answers
// 202 with a task monitor; `Prefer: respond-async` asks for the 202 at once.
import { RedfishRequestError } from "../../errors.ts";
import type { RequestContext, Route } from "../context.ts";
import { checkParams, collection, type Json, resource, ROOT } from "../json.ts";
import { errorBody, fail } from "../messages.ts";
import type { MediaView, RedfishSystem } from "../provider.ts";
import { findSystem, managerUri, systemUri } from "./systems.ts";
import { monitorUri, taskBody } from "./tasks.ts";

type Parent = "Managers" | "Systems";
const parentUri = (p: Parent, s: RedfishSystem) => (p === "Managers" ? managerUri(s) : systemUri(s));

const NAMES: Record<MediaView["id"], string> = { Cd: "Virtual CD", USBStick: "Virtual USB stick" };
const INSERT_PARAMS = ["Image", "UserName", "Password", "TransferProtocolType", "TransferMethod", "Inserted", "WriteProtected"];

function mediaBody(p: Parent, s: RedfishSystem, m: MediaView): Json {
  const uri = `${parentUri(p, s)}/VirtualMedia/${m.id}`;
  const t = m.transfer;
  return resource("#VirtualMedia.v1_5_0.VirtualMedia", uri, m.id, NAMES[m.id], {
    MediaTypes: m.mediaTypes,
    ConnectedVia: m.inserted ? "URI" : "NotConnected",
    Image: m.image ?? null,
    ImageName: m.image ? (m.image.split("?")[0]?.split("/").pop() ?? null) : null,
    Inserted: m.inserted,
    WriteProtected: m.writeProtected,
    TransferMethod: "Upload",
    ...(m.image ? { TransferProtocolType: m.image.startsWith("https:") ? "HTTPS" : "HTTP" } : {}),
    Status: t?.state === "failed" ? { State: "Enabled", Health: "Critical" } : { State: "Enabled", Health: "OK" },
    ...(t
      ? {
          Oem: {
            esxkit: {
              "@odata.type": "#EsxkitVirtualMedia.v1_0_0.Transfer",
              TransferState: t.state,
              TransferredBytes: t.bytes,
              ...(t.total !== undefined ? { TotalBytes: t.total } : {}),
              Connected: m.connected,
              ...(t.error ? { Error: t.error } : {}),
            },
          },
        }
      : {}),
    Actions: {
      "#VirtualMedia.InsertMedia": {
        target: `${uri}/Actions/VirtualMedia.InsertMedia`,
        "TransferProtocolType@Redfish.AllowableValues": ["HTTP", "HTTPS"],
        "TransferMethod@Redfish.AllowableValues": ["Stream", "Upload"],
      },
      "#VirtualMedia.EjectMedia": { target: `${uri}/Actions/VirtualMedia.EjectMedia` },
    },
  });
}

function findMedia(ctx: RequestContext): { s: RedfishSystem; m: MediaView } {
  const s = findSystem(ctx);
  const m = s.media().find((x) => x.id === ctx.params.dev);
  if (!m) throw fail.notFound(ctx.path);
  return { s, m };
}

function boolParam(action: string, body: Json, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw fail.paramType(action, name, v, "true or false");
  return v;
}

function strParam(action: string, body: Json, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw fail.paramType(action, name, name === "Password" ? "…" : v, "a string");
  return v;
}

async function insert(ctx: RequestContext) {
  const action = "VirtualMedia.InsertMedia";
  const { s, m } = findMedia(ctx);
  const body = checkParams(action, ctx.body, INSERT_PARAMS);
  const image = strParam(action, body, "Image");
  if (image === undefined) throw fail.paramMissing(action, "Image");
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    throw fail.paramType(action, "Image", image.replace(/\/\/[^@/]*@/, "//…@").slice(0, 200), "an http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw fail.paramNotInList(action, "Image", `${url.protocol}…`, ["http://…", "https://…"]);
  const proto = strParam(action, body, "TransferProtocolType");
  if (proto !== undefined) {
    if (!["HTTP", "HTTPS"].includes(proto)) throw fail.paramNotInList(action, "TransferProtocolType", proto, ["HTTP", "HTTPS"]);
    if (`${proto.toLowerCase()}:` !== url.protocol) throw fail.paramNotInList(action, "TransferProtocolType", proto, [url.protocol === "https:" ? "HTTPS" : "HTTP"]);
  }
  const method = strParam(action, body, "TransferMethod");
  if (method !== undefined && !["Stream", "Upload"].includes(method)) throw fail.paramNotInList(action, "TransferMethod", method, ["Stream", "Upload"]);
  if (boolParam(action, body, "Inserted") === false) throw fail.paramNotInList(action, "Inserted", false, ["true"]);
  const writeProtected = boolParam(action, body, "WriteProtected") ?? true;
  let username = strParam(action, body, "UserName");
  let password = strParam(action, body, "Password");
  // sushy retries with "none" when a BMC insists on credentials being present.
  if (username === "none" && password === "none") username = password = undefined;
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  if (m.inserted && m.image !== shown && m.image !== image) {
    throw new RedfishRequestError(409, "ResourceInUse", `${m.id} already holds ${m.image}; eject it first.`);
  }
  ctx.env.logger.info("Redfish InsertMedia", { system: s.name, device: m.id, image: shown, user: ctx.user, peer: ctx.source });
  const work = s.insertMedia(m.id, { image, username, password, writeProtected });
  const asyncWanted = /respond-async/i.test(ctx.headers.get("prefer") ?? "");
  const waitMs = asyncWanted ? 0 : ctx.env.mediaWaitMs;
  ctx.keepOpen(Math.ceil(waitMs / 1000) + 30);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = asyncWanted ? "waiting" : await Promise.race([
    work.then(() => "done" as const),
    new Promise<"waiting">((resolve) => {
      timer = setTimeout(() => resolve("waiting"), waitMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (outcome === "done") return { status: 204 };
  const percent = () => {
    const t = s.media().find((x) => x.id === m.id)?.transfer;
    return t?.total ? (100 * t.bytes) / t.total : undefined;
  };
  const task = ctx.env.tasks.start(`InsertMedia ${m.id} on ${s.name}`, s.name, work, percent, (err) => {
    const e = err instanceof RedfishRequestError ? err : new RedfishRequestError(500, "OperationFailed", "Inserting the image failed; see the esxkit log.");
    return { status: e.status, body: errorBody(e), message: e.message };
  });
  return { status: 202, body: taskBody(task), headers: { Location: monitorUri(task.id), "Retry-After": "5" }, etag: false };
}

async function eject(ctx: RequestContext) {
  const action = "VirtualMedia.EjectMedia";
  const { s, m } = findMedia(ctx);
  checkParams(action, ctx.body, []);
  ctx.env.logger.info("Redfish EjectMedia", { system: s.name, device: m.id, user: ctx.user, peer: ctx.source });
  await s.ejectMedia(m.id);
  return { status: 204 };
}

function routesUnder(p: Parent): Route[] {
  const base = `${ROOT}/${p}/:id/VirtualMedia`;
  return [
    {
      pattern: base,
      name: "VirtualMediaCollection",
      methods: {
        GET: (ctx) => {
          const s = findSystem(ctx);
          const uri = `${parentUri(p, s)}/VirtualMedia`;
          return { body: collection("#VirtualMediaCollection.VirtualMediaCollection", uri, "Virtual Media", s.media().map((m) => `${uri}/${m.id}`)) };
        },
      },
    },
    {
      pattern: `${base}/:dev`,
      name: "VirtualMedia",
      methods: {
        GET: (ctx) => {
          const { s, m } = findMedia(ctx);
          return { body: mediaBody(p, s, m) };
        },
      },
    },
    { pattern: `${base}/:dev/Actions/VirtualMedia.InsertMedia`, name: "InsertMedia", methods: { POST: insert } },
    { pattern: `${base}/:dev/Actions/VirtualMedia.EjectMedia`, name: "EjectMedia", methods: { POST: eject } },
  ];
}

export const mediaRoutes: Route[] = [...routesUnder("Managers"), ...routesUnder("Systems")];
