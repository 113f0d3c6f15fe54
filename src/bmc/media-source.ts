// Fetching a virtual-media image from its URL (Redfish InsertMedia "Image"), as a stream.
//
// - http and https; certificate checks are off unless asked for, as on every Redfish BMC
//   (sushy-tools' VerifyCertificate defaults to false): the image server is usually an
//   installer's own ad-hoc HTTPS endpoint.
// - basic-auth credentials from the options (Redfish UserName/Password) or the URL's userinfo;
//   never logged, never in an error (messages name the URL through redactUrl).
// - deadlines: connect, response headers, and the idle gap between body chunks. There is no
//   total deadline: a 1 GiB ISO over a slow link must get through as long as it keeps moving.
// - redirects are followed (up to 5); undici drops Authorization on a cross-origin redirect.
import { Agent, errors as undiciErrors, interceptors, request, type Dispatcher } from "undici/index.js";
import { MediaSourceError, MediaUrlError } from "../errors.ts";

export interface ImageSourceOptions {
  username?: string;
  password?: string;
  /** Verify the server's certificate chain and name. Default false. */
  verifyTls?: boolean;
  /** TCP/TLS connect, and then the response headers, each within this. Default 30 s. */
  connectTimeoutMs?: number;
  /** Longest gap between two body chunks. Default 60 s. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface OpenedImage {
  /** The body; iterate once. Errors while reading are MediaSourceError. */
  body: AsyncIterable<Uint8Array>;
  /** Content-Length, when the server sent one. */
  total?: number;
  /**
   * What identifies this version of the image: the ETag, else Last-Modified plus length, else ""
   * (the server gives no validator).
   */
  validator: string;
  /** Stop reading and release the connection (when the image is already on the datastore). */
  close(): void;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ALTNAME|HOSTNAME_MISMATCH/;

/** The URL as shown to people: no userinfo (credentials), nothing else changed. Unparseable input: "(invalid URL)". */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** Parse and check an image URL: http or https with a host. Throws MediaUrlError. */
export function parseImageUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MediaUrlError("image URL is not a valid URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new MediaUrlError(`image URL ${redactUrl(url)}: scheme ${u.protocol.replace(/:$/, "")} is not supported (use http or https)`);
  }
  if (!u.hostname) throw new MediaUrlError(`image URL ${redactUrl(url)} has no host`);
  return u;
}

const agents = new Map<string, Dispatcher>();

function agentFor(verifyTls: boolean, connectMs: number): Dispatcher {
  const key = `${verifyTls}:${connectMs}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({ connect: { rejectUnauthorized: verifyTls, timeout: connectMs }, keepAliveTimeout: 10_000 }).compose(
      interceptors.redirect({ maxRedirections: 5 }),
    );
    agents.set(key, a);
  }
  return a;
}

/** Translate an undici/socket error while fetching `shown` into MediaSourceError. */
export function sourceError(err: unknown, shown: string, o: { connectMs: number; idleMs: number }): Error {
  if (err instanceof MediaSourceError || err instanceof MediaUrlError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? "";
  const causeCode = e?.cause?.code ?? "";
  const detail = `${e?.message ?? String(err)}${causeCode && causeCode !== code ? ` (${causeCode})` : ""}`;
  if (code === "UND_ERR_CONNECT_TIMEOUT") return new MediaSourceError("timeout", `image ${shown}: no connection within ${o.connectMs} ms`, undefined, { cause: err });
  if (code === "UND_ERR_HEADERS_TIMEOUT") return new MediaSourceError("timeout", `image ${shown}: no response within ${o.connectMs} ms`, undefined, { cause: err });
  if (code === "UND_ERR_BODY_TIMEOUT") return new MediaSourceError("idle", `image ${shown}: the download stalled (no data for ${o.idleMs} ms)`, undefined, { cause: err });
  if (TLS_CODES.test(code) || TLS_CODES.test(causeCode)) {
    return new MediaSourceError("tls", `image ${shown}: TLS verification failed: ${detail}`, undefined, { cause: err });
  }
  if (code === "UND_ERR_SOCKET" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" || code === "ECONNRESET") {
    return new MediaSourceError("truncated", `image ${shown}: the server closed the connection mid-download: ${detail}`, undefined, { cause: err });
  }
  return new MediaSourceError("connect", `image ${shown}: ${detail}`, undefined, { cause: err });
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * GET the image and resolve once the response headers are in (status 2xx). Rejects with
 * MediaUrlError or MediaSourceError (reason http_status carries the upstream status).
 */
export async function openImage(url: string, o: ImageSourceOptions = {}): Promise<OpenedImage> {
  const u = parseImageUrl(url);
  const shown = redactUrl(url);
  const connectMs = o.connectTimeoutMs ?? 30_000;
  const idleMs = o.idleTimeoutMs ?? 60_000;
  const username = o.username ?? decodeURIComponent(u.username);
  const password = o.password ?? decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  const headers: Record<string, string> = { accept: "*/*", "user-agent": "esxkit-virtual-media" };
  if (username || password) headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const abort = new AbortController();
  const signal = o.signal ? AbortSignal.any([abort.signal, o.signal]) : abort.signal;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(u, {
      dispatcher: agentFor(o.verifyTls ?? false, connectMs),
      method: "GET",
      headers,
      signal,
      headersTimeout: connectMs,
      bodyTimeout: idleMs,
    });
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason ?? err;
    throw sourceError(err, shown, { connectMs, idleMs });
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    res.body.resume();
    abort.abort();
    throw new MediaSourceError("http_status", `image ${shown}: HTTP ${res.statusCode}`, res.statusCode);
  }
  const length = Number(header(res.headers, "content-length"));
  const total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  const etag = header(res.headers, "etag");
  const lastModified = header(res.headers, "last-modified");
  const validator = etag ? `etag:${etag}` : lastModified ? `lm:${lastModified}:${total ?? ""}` : "";
  const stream = res.body;
  async function* body(): AsyncGenerator<Uint8Array> {
    let seen = 0;
    try {
      for await (const chunk of stream) {
        seen += (chunk as Uint8Array).byteLength;
        yield chunk as Uint8Array;
      }
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason ?? err;
      if (err instanceof undiciErrors.RequestAbortedError && abort.signal.aborted) throw err;
      throw sourceError(err, shown, { connectMs, idleMs });
    }
    if (total !== undefined && seen !== total) {
      throw new MediaSourceError("truncated", `image ${shown}: got ${seen} of ${total} bytes`);
    }
  }
  return {
    body: body(),
    total,
    validator,
    close: () => {
      abort.abort();
      stream.destroy();
    },
  };
}
