// HTTPS transport for vim25 SOAP: one keep-alive undici Agent per endpoint, TLS trust by
// CA verification, thumbprint pin, or (explicitly) none, and a hard deadline on every call.
//
// undici comes through src/net/undici.ts: the real npm package (a bare "undici" import is
// Bun's inert shim), loaded without the parts we never use.
//
// Pinning is done in a custom connector that hashes the peer certificate of every new TLS
// connection. A pin through `checkServerIdentity` would be a no-op, because that hook only
// runs after the chain verified, and never with rejectUnauthorized:false.
import type { TLSSocket } from "node:tls";
import { Agent, buildConnector, type Connector, type Dispatcher, request } from "../net/undici.ts";
import { DEFAULT_MAX_CONNECTIONS, type EndpointConfig, type TlsTrust } from "../config/types.ts";
import { ConnectError, DeadlineError, HttpStatusError, TlsPinError, TlsVerifyError } from "../errors.ts";
import { normalizeThumbprint } from "../config/thumbprint.ts";

import { certificateThumbprints, type Thumbprints } from "./thumbprint.ts";

export { Agent };

/** Information about one new connection, for tests and metrics. */
export interface ConnectionInfo {
  host: string;
  port: number;
  /** Thumbprints of the peer certificate (TLS only). */
  thumbprints?: Thumbprints;
}

export interface HttpAgentOptions {
  /** TCP + TLS handshake timeout. Default: min(timeout_ms, 10 s). */
  connectTimeoutMs?: number;
  /** Time to the response headers. Default: timeout_ms. A call with a longer deadline raises it for that request. */
  headersTimeoutMs?: number;
  /** Maximum gap between body chunks. Default: timeout_ms. A call with a longer deadline raises it for that request. */
  bodyTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this. Default 30 s (vCenter closes at ~60 s). */
  keepAliveTimeoutMs?: number;
  /** Called once for every new connection the agent opens. */
  onConnection?: (info: ConnectionInfo) => void;
  /**
   * At most this many connections at once (more requests queue, their deadlines running).
   * Default endpoint.max_connections; 0 = no limit (for long-held requests, see VimClient).
   */
  connections?: number;
}

/** The timeouts an agent was made with, so a call can raise them for itself (see postText). */
interface AgentTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}
const agentTimeouts = new WeakMap<Agent, AgentTimeouts>();

/** TLS error codes that mean "the chain or the name did not verify". */
const TLS_VERIFY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

function tlsConnectOptions(trust: TlsTrust): { rejectUnauthorized: boolean; ca?: string } {
  switch (trust.mode) {
    case "verify":
      return trust.ca ? { rejectUnauthorized: true, ca: trust.ca } : { rejectUnauthorized: true };
    case "thumbprint":
    case "insecure":
      return { rejectUnauthorized: false };
  }
}

/**
 * Create the keep-alive Agent for one endpoint. TLS trust comes from `endpoint.tls`:
 * verify (system CAs, or `ca` PEM only), thumbprint (SHA-256 or SHA-1 pin checked on every new
 * connection; the chain is not consulted), or insecure.
 */
export function createHttpAgent(
  endpoint: Pick<EndpointConfig, "url" | "tls" | "timeout_ms" | "max_connections">,
  opts: HttpAgentOptions = {},
): Agent {
  const deadline = endpoint.timeout_ms;
  const connectTimeout = opts.connectTimeoutMs ?? Math.min(deadline, 10_000);
  const trust = endpoint.tls;
  const pin = trust.mode === "thumbprint" ? normalizeThumbprint(trust.thumbprint) : undefined;
  if (trust.mode === "thumbprint" && !pin) {
    throw new TlsVerifyError(`${endpoint.url}: malformed thumbprint (want 40 or 64 hex digits)`);
  }
  const base = buildConnector({ timeout: connectTimeout, ...tlsConnectOptions(trust) });

  const connect: Connector = (options, callback) => {
    base(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new ConnectError("connect failed"), null);
        return;
      }
      const info: ConnectionInfo = { host: options.hostname, port: Number(options.port) || 443 };
      if (options.protocol === "https:") {
        const der = (socket as TLSSocket).getPeerCertificate?.(false)?.raw;
        if (der) info.thumbprints = certificateThumbprints(der);
        if (pin) {
          const got = info.thumbprints;
          const want = pin.length === 95 ? got?.sha256 : got?.sha1;
          if (!got || want !== pin) {
            socket.destroy();
            callback(new TlsPinError(pin, got?.sha256 ?? "(no certificate)", got?.sha1 ?? "(no certificate)"), null);
            return;
          }
        }
      }
      opts.onConnection?.(info);
      callback(null, socket);
    });
  };

  const timeouts: AgentTimeouts = {
    connectMs: connectTimeout,
    headersMs: opts.headersTimeoutMs ?? deadline,
    bodyMs: opts.bodyTimeoutMs ?? deadline,
  };
  const connections = opts.connections ?? endpoint.max_connections ?? DEFAULT_MAX_CONNECTIONS;
  const agent = new Agent({
    connect,
    // Without a cap, a burst (5,000 BMCs reading their VMs at start) opens one TLS connection
    // per request in flight. null is undici's "no limit".
    connections: connections > 0 ? connections : null,
    connectTimeout,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 60_000,
  });
  agentTimeouts.set(agent, timeouts);
  return agent;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface PostOptions {
  headers?: Record<string, string>;
  /**
   * Hard deadline for the whole exchange (connect, send, headers, body). When it is longer
   * than the agent's header or body timeout, that timeout is raised to it for this request
   * only, so a long poll (WaitForUpdatesEx) may wait longer than the endpoint's timeout_ms.
   */
  deadlineMs: number;
  /** What this call is, for error messages: "vc1 RetrievePropertiesEx". */
  what: string;
  /** Caller cancellation (e.g. shutdown). Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * POST `body` and read the whole response as text, within `deadlineMs`. Failures come back
 * as ConnectError, DeadlineError, TlsVerifyError or TlsPinError. Any HTTP status is returned
 * (SOAP faults arrive as 500); the caller decides.
 */
export async function postText(agent: Agent, url: string, body: string, opts: PostOptions): Promise<HttpResponse> {
  const base = agentTimeouts.get(agent);
  // Per-request timeouts never shorten the agent's; the hard deadline below bounds the call.
  const timeouts: AgentTimeouts = {
    connectMs: base?.connectMs ?? opts.deadlineMs,
    headersMs: Math.max(base?.headersMs ?? 0, opts.deadlineMs),
    bodyMs: Math.max(base?.bodyMs ?? 0, opts.deadlineMs),
  };
  const deadline = new AbortController();
  const signal = opts.signal ? AbortSignal.any([deadline.signal, opts.signal]) : deadline.signal;
  // undici does not settle an aborted request while its socket is still connecting (it waits
  // for the connect timeout), so the deadline and the caller's abort also race the exchange.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onCallerAbort: (() => void) | undefined;
  const cutoff = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort();
      reject(new DeadlineError(opts.what, opts.deadlineMs));
    }, opts.deadlineMs);
    if (opts.signal) {
      onCallerAbort = () => reject(opts.signal?.reason ?? new Error("aborted"));
      if (opts.signal.aborted) onCallerAbort();
      else opts.signal.addEventListener("abort", onCallerAbort, { once: true });
    }
  });
  const exchange = (async () => {
    const res = await request(url, {
      dispatcher: agent,
      method: "POST",
      body,
      headers: opts.headers,
      signal,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text };
  })();
  exchange.catch(() => undefined); // settled later when the cutoff wins
  try {
    return await Promise.race([exchange, cutoff]);
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    if (opts.signal?.aborted && !deadline.signal.aborted) throw opts.signal.reason ?? err;
    if (deadline.signal.aborted) throw new DeadlineError(opts.what, opts.deadlineMs, { cause: err });
    throw mapTransportError(err, opts.what, timeouts);
  } finally {
    clearTimeout(timer);
    if (onCallerAbort) opts.signal?.removeEventListener("abort", onCallerAbort);
  }
}

export interface StreamRequestOptions {
  method: "GET" | "HEAD" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  /** A streamed body (undici writes it with backpressure), or nothing. */
  body?: AsyncIterable<Uint8Array>;
  /**
   * Time to the response headers; 0 = no limit (an upload's caller watches progress itself:
   * undici's header timer runs while a slow body is still being sent).
   */
  headersTimeoutMs: number;
  /** Longest gap between response body chunks. */
  bodyTimeoutMs: number;
  what: string;
  signal?: AbortSignal;
}

/**
 * One HTTP request on `agent` whose response body is left to the caller (stream it or
 * dump it). Transport failures come back as the same typed errors as postText.
 */
export async function streamRequest(agent: Agent, url: string, opts: StreamRequestOptions): Promise<Dispatcher.ResponseData> {
  const base = agentTimeouts.get(agent);
  const timeouts: AgentTimeouts = { connectMs: base?.connectMs ?? 10_000, headersMs: opts.headersTimeoutMs, bodyMs: opts.bodyTimeoutMs };
  try {
    return await request(url, {
      dispatcher: agent,
      method: opts.method,
      headers: opts.headers,
      // undici writes any async iterable with backpressure; its types only list Readable.
      body: opts.body as Dispatcher.DispatchOptions["body"],
      signal: opts.signal,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    throw mapTransportError(err, opts.what, timeouts);
  }
}

/** Translate undici / node:tls / socket errors into esxkit's error classes. */
export function mapTransportError(err: unknown, what: string, timeouts: AgentTimeouts): Error {
  if (err instanceof TlsPinError || err instanceof TlsVerifyError || err instanceof DeadlineError) return err;
  if (err instanceof ConnectError || err instanceof HttpStatusError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? "";
  const message = e?.message ?? String(err);
  // A pin failure may come back wrapped by undici.
  if (e?.cause instanceof TlsPinError) return e.cause;
  if (TLS_VERIFY_CODES.has(code) || (e?.cause?.code && TLS_VERIFY_CODES.has(e.cause.code))) {
    return new TlsVerifyError(`${what}: TLS verification failed: ${message} [${code || e?.cause?.code}]`, { cause: err });
  }
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new DeadlineError(`${what} (connect)`, timeouts.connectMs, { cause: err });
    case "UND_ERR_HEADERS_TIMEOUT":
      return new DeadlineError(`${what} (response headers)`, timeouts.headersMs, { cause: err });
    case "UND_ERR_BODY_TIMEOUT":
      return new DeadlineError(`${what} (response body gap)`, timeouts.bodyMs, { cause: err });
    case "UND_ERR_SOCKET":
      return new ConnectError(`${what}: connection closed by the server mid-exchange: ${message}`, { cause: err });
  }
  return new ConnectError(`${what}: ${message}${code ? ` [${code}]` : ""}`, { cause: err });
}
