// The Redfish service: one HTTPS listener (Bun.serve) for every system. It caps request
// bodies, authenticates, routes, and renders every failure as a Redfish error body. Each
// request is counted by resource, method and status.
import { RedfishRequestError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import { bindHttp } from "../net/bind-error.ts";
import { authenticate } from "./auth.ts";
import type { Method, Reply, RequestContext, ServiceEnv } from "./context.ts";
import { etagOf, type Json } from "./json.ts";
import { errorBody, fail } from "./messages.ts";
import { routes } from "./resources/index.ts";
import { Router } from "./router.ts";

const requests = metrics.counter("esxkit_redfish_requests_total", "Redfish requests answered, by resource, method and status.");
const latency = metrics.histogram("esxkit_redfish_request_seconds", "Time to answer a Redfish request, by resource.");

export const MAX_BODY_BYTES = 64 * 1024;
/** Seconds a connection may be idle (a slowloris sending a byte a minute is cut off). */
const IDLE_TIMEOUT_S = 30;
const METHODS: Method[] = ["GET", "POST", "PATCH", "DELETE", "PUT"];

export interface RedfishServerOptions {
  hostname: string;
  port: number;
  tls: { cert: string; key: string };
  env: ServiceEnv;
}

export interface RedfishServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

async function readBody(req: Request): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const tooLarge = () => new RedfishRequestError(413, "PayloadTooLarge", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);

function parseJson(text: string, contentType: string | null): unknown {
  if (text.trim() === "") return undefined;
  if (contentType && !/json/i.test(contentType)) throw new RedfishRequestError(415, "UnsupportedMediaType", `The content type ${contentType.slice(0, 100)} is not supported; send application/json.`, { args: [contentType.slice(0, 100)] });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail.malformed((err as Error).message.slice(0, 200));
  }
}

const COMMON_HEADERS = { "OData-Version": "4.0", "Cache-Control": "no-cache", "X-Frame-Options": "DENY", "Strict-Transport-Security": "max-age=31536000" };

function render(method: string, reply: Reply): Response {
  const headers: Record<string, string> = { ...COMMON_HEADERS, ...reply.headers };
  if (reply.text !== undefined) {
    headers["Content-Type"] = reply.contentType ?? "text/plain";
    return new Response(method === "HEAD" ? null : reply.text, { status: reply.status ?? 200, headers });
  }
  if (reply.body === undefined) return new Response(null, { status: reply.status ?? 204, headers });
  let body: Json = reply.body;
  if ((reply.etag ?? method === "GET") && body["@odata.id"] !== undefined && body.error === undefined) {
    const etag = etagOf(body);
    body = { ...body, "@odata.etag": etag };
    headers.ETag = etag;
  }
  headers["Content-Type"] = "application/json; charset=utf-8";
  return new Response(method === "HEAD" ? null : JSON.stringify(body), { status: reply.status ?? 200, headers });
}

export function startRedfishServer(o: RedfishServerOptions): RedfishServer {
  const router = new Router(routes);
  const logger: Logger = o.env.logger;

  async function handle(req: Request, source: string, keepOpen: (s: number) => void): Promise<{ reply: Reply; resource: string }> {
    const url = new URL(req.url);
    const method = req.method.toUpperCase();
    const match = router.match(url.pathname);
    if (!match) return { reply: { status: 404, body: errorBody(fail.notFound(url.pathname.slice(0, 200))) }, resource: "unknown" };
    const { route, params } = match;
    const m = (method === "HEAD" ? "GET" : method) as Method;
    const handler = METHODS.includes(m) ? route.methods[m] : undefined;
    if (!handler) {
      const allow = Object.keys(route.methods);
      if (allow.includes("GET")) allow.push("HEAD");
      throw Object.assign(fail.methodNotAllowed(method.slice(0, 20), allow), { resource: route.name });
    }
    let user = "";
    let session: RequestContext["session"];
    if (!route.public?.includes(m)) ({ user, session } = authenticate(o.env, req.headers, source));
    const body = m === "POST" || m === "PATCH" || m === "PUT" ? parseJson(await readBody(req), req.headers.get("content-type")) : undefined;
    const ctx: RequestContext = { env: o.env, method: m, path: url.pathname, params, headers: req.headers, source, user, session, body, keepOpen };
    return { reply: await handler(ctx), resource: route.name };
  }

  const server = bindHttp(o.hostname, o.port, () => Bun.serve({
    hostname: o.hostname,
    port: o.port,
    tls: o.tls,
    idleTimeout: IDLE_TIMEOUT_S,
    maxRequestBodySize: MAX_BODY_BYTES * 4,
    development: false,
    // Bun binds a production (development: false) server with SO_REUSEPORT unless told not
    // to: a second esxkit on the same listen address then binds too and the kernel splits the
    // connections between the two daemons (other certificate, password and systems).
    reusePort: false,
    async fetch(req, srv) {
      const started = performance.now();
      const source = srv.requestIP(req)?.address ?? "unknown";
      let resource = "unknown";
      let response: Response;
      try {
        const r = await handle(req, source, (s) => srv.timeout(req, s));
        resource = r.resource;
        response = render(req.method, r.reply);
      } catch (err) {
        resource = (err as { resource?: string }).resource ?? resource;
        if (err instanceof RedfishRequestError) {
          response = render(req.method, { status: err.status, body: errorBody(err), headers: err.extra.headers });
        } else {
          logger.error("Redfish request failed", { method: req.method, path: new URL(req.url).pathname, err });
          const e = new RedfishRequestError(500, "InternalError", "The request failed due to an internal service error; see the esxkit log.");
          response = render(req.method, { status: 500, body: errorBody(e) });
        }
      }
      // Bun closes the socket after answering a "Connection: close" request without saying
      // so; a client that reuses it (python-requests) then fails with RemoteDisconnected.
      if (/\bclose\b/i.test(req.headers.get("connection") ?? "")) response.headers.set("Connection", "close");
      requests.inc({ resource, method: req.method, status: String(response.status) });
      latency.observe({ resource }, (performance.now() - started) / 1000);
      if (logger.enabled("debug")) logger.debug("redfish request", { method: req.method, path: new URL(req.url).pathname, status: response.status, peer: source });
      return response;
    },
    error(err) {
      logger.error("Redfish server error", { err });
      return new Response(JSON.stringify(errorBody(new RedfishRequestError(500, "InternalError", "Internal service error."))), { status: 500, headers: { "Content-Type": "application/json" } });
    },
  }));
  const host = o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname;
  return {
    port: server.port as number,
    url: `https://${host}:${server.port}`,
    async stop() {
      await server.stop(true);
    },
  };
}
