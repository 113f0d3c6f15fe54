// A vim25 SOAP client for one endpoint (vCenter or standalone ESXi): the service content,
// a session cookie, transparent re-login, and a hard deadline on every call.
import type { Agent, Dispatcher } from "../net/undici.ts";
import type { EndpointConfig } from "../config/types.ts";
import { errorCode, HttpStatusError, SoapFaultError } from "../errors.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { metrics } from "../log/metrics.ts";
import { faultFromResponse, decodeResponse } from "./soap/decode.ts";
import { buildRequest } from "./soap/envelope.ts";
import type { MoRef, SoapValue } from "./soap/types.ts";
import { createHttpAgent, type HttpAgentOptions, postText, streamRequest, type StreamRequestOptions } from "./transport.ts";
import { toServiceContent, toUserSession } from "./convert.ts";
import type { AboutInfo, ServiceContent, UserSession } from "./vim-types.ts";

const requestSeconds = metrics.histogram("esxkit_vcenter_request_seconds", "vim25 SOAP request latency by endpoint and method (WaitForUpdatesEx includes its long poll).");
const requestErrors = metrics.counter("esxkit_vcenter_errors_total", "vim25 SOAP requests that failed, by endpoint and error code.");

const connectionsGauge = metrics.gauge("esxkit_vcenter_connections", "Open connections for ordinary calls by endpoint (at most its max_connections; long polls and transfers not counted).");
const queuedGauge = metrics.gauge("esxkit_vcenter_queued_requests", "Calls waiting for one of the endpoint's max_connections: steadily above 0 means the cap is too low for the load.");
/** Every open client, so one scrape sums the pools of clients that share an endpoint name. */
const openClients = new Set<VimClient>();
metrics.onCollect(() => {
  connectionsGauge.clear();
  queuedGauge.clear();
  for (const c of openClients) {
    const labels = { endpoint: c.endpoint.name };
    for (const pool of Object.values(c.agent.stats)) {
      // A pool of one connection is an undici Client, whose stats have no `queued`.
      const p = pool as { connected?: number; pending?: number; queued?: number };
      connectionsGauge.inc(labels, p.connected ?? 0);
      queuedGauge.inc(labels, p.queued ?? p.pending ?? 0);
    }
  }
});

/** The vim25 API version we speak; newer servers accept it. */
const SOAP_ACTION = "urn:vim25/6.5";
const COOKIE_NAME = "vmware_soap_session";
const SERVICE_INSTANCE: MoRef = { type: "ServiceInstance", value: "ServiceInstance" };
/** Methods that must not trigger a re-login when they fail with NotAuthenticated. */
const NO_RELOGIN = new Set(["Login", "Logout", "RetrieveServiceContent"]);

export interface VimClientOptions {
  logger?: Logger;
  /** Transport tuning (timeouts, connection hook). */
  http?: HttpAgentOptions;
  /** Share an existing agent instead of creating one; close() then leaves it open. */
  agent?: Agent;
  /** Log in during connect(). Default true. */
  login?: boolean;
}

export interface CallOptions {
  /**
   * Hard deadline for this call; default endpoint.timeout_ms. A longer one also raises the
   * agent's header and body timeouts for this request (long polls such as WaitForUpdatesEx).
   */
  deadlineMs?: number;
  /** Caller cancellation. */
  signal?: AbortSignal;
  /** Re-login and retry once on NotAuthenticated. Default true. */
  relogin?: boolean;
  /**
   * This call holds its connection for long (WaitForUpdatesEx's long poll): it goes on the
   * client's connections for long-held requests, so it never takes one of the
   * `max_connections` that ordinary calls share.
   */
  longHeld?: boolean;
}

/** Counters, for benchmarks and tests. */
export interface ClientStats {
  requests: number;
  logins: number;
  relogins: number;
}

/** Endpoints (name and URL) whose insecure = true has been warned about in this process. */
const warnedInsecure = new Set<string>();

export class VimClient {
  readonly endpoint: EndpointConfig;
  /** Ordinary calls: at most endpoint.max_connections at once. */
  readonly agent: Agent;
  /** Long polls and datastore transfers: uncapped, so they never starve ordinary calls. */
  readonly longHeldAgent: Agent;
  readonly logger: Logger;
  readonly stats: ClientStats = { requests: 0, logins: 0, relogins: 0 };
  /** Incremented on every successful Login; a watch compares it to notice a new session. */
  sessionGeneration = 0;
  #serviceContent?: ServiceContent;
  #cookie?: string;
  #session?: UserSession;
  #relogin?: Promise<void>;
  #ownsAgent: boolean;
  #closed = false;
  #loginListeners = new Set<() => void>();

  private constructor(endpoint: EndpointConfig, opts: VimClientOptions) {
    this.endpoint = endpoint;
    this.logger = (opts.logger ?? silentLogger).child("vsphere", { endpoint: endpoint.name });
    this.#ownsAgent = !opts.agent;
    this.agent = opts.agent ?? createHttpAgent(endpoint, opts.http);
    this.longHeldAgent = opts.agent ?? createHttpAgent(endpoint, { ...opts.http, connections: 0 });
    openClients.add(this);
  }

  /**
   * Open a client: RetrieveServiceContent, then Login (unless `opts.login === false`).
   * Throws ConnectError, DeadlineError, TlsVerifyError, TlsPinError, or SoapFaultError
   * (faultType "InvalidLogin" for bad credentials).
   */
  static async connect(endpoint: EndpointConfig, opts: VimClientOptions = {}): Promise<VimClient> {
    const client = new VimClient(endpoint, opts);
    // Once per endpoint and process: the watchdog reconnects to a down host every few seconds.
    const insecureKey = `${endpoint.name}\0${endpoint.url}`;
    if (endpoint.tls.mode === "insecure" && !warnedInsecure.has(insecureKey)) {
      warnedInsecure.add(insecureKey);
      client.logger.warn("TLS certificate verification is disabled for this endpoint (insecure = true)", {
        url: endpoint.url,
      });
    }
    try {
      const sc = await client.call("RetrieveServiceContent", SERVICE_INSTANCE, {}, { relogin: false });
      client.#serviceContent = toServiceContent(sc);
      if (opts.login !== false) await client.login();
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  /** The ServiceContent fetched at connect time. */
  get serviceContent(): ServiceContent {
    if (!this.#serviceContent) throw new Error("VimClient used before connect()");
    return this.#serviceContent;
  }

  get about(): AboutInfo {
    return this.serviceContent.about;
  }

  /** true for vCenter (apiType VirtualCenter), false for a standalone ESXi host (HostAgent). */
  get isVCenter(): boolean {
    return this.about.apiType === "VirtualCenter";
  }

  /** The current session, if logged in. */
  get session(): UserSession | undefined {
    return this.#session;
  }

  /** Be told after every successful (re-)login. Returns an unsubscribe function. */
  onLogin(listener: () => void): () => void {
    this.#loginListeners.add(listener);
    return () => this.#loginListeners.delete(listener);
  }

  /**
   * Invoke a vim25 method. Returns the decoded `returnval` (undefined for void methods).
   * A NotAuthenticated fault triggers one transparent re-login and one retry.
   */
  async call<T = SoapValue>(method: string, thisRef: MoRef, args: Record<string, SoapValue> = {}, opts: CallOptions = {}): Promise<T> {
    const generation = this.sessionGeneration;
    try {
      return (await this.#send(method, thisRef, args, opts)) as T;
    } catch (err) {
      const mayRelogin = opts.relogin !== false && !NO_RELOGIN.has(method) && this.#session !== undefined;
      if (!(err instanceof SoapFaultError) || err.faultType !== "NotAuthenticated" || !mayRelogin) throw err;
      await this.ensureSession(generation);
      return (await this.#send(method, thisRef, args, opts)) as T;
    }
  }

  /**
   * Make sure a session newer than `seenGeneration` exists: the first caller to notice a dead
   * session logs in again, concurrent callers wait for that same login.
   */
  async ensureSession(seenGeneration: number): Promise<void> {
    if (this.sessionGeneration !== seenGeneration) return;
    if (!this.#relogin) {
      this.stats.relogins++;
      this.logger.info("session expired or was terminated; logging in again");
      this.#cookie = undefined;
      this.#relogin = this.login()
        .then(() => undefined)
        .finally(() => {
          this.#relogin = undefined;
        });
    }
    await this.#relogin;
  }

  /**
   * A plain HTTP request to this endpoint's host outside SOAP (vCenter's `/folder` datastore
   * file access), on the same agent (TLS pin, keep-alive) and with the session cookie.
   * `pathAndQuery` starts with "/". A request without a body that gets 401 logs in again and
   * is retried once; a streamed body cannot be replayed, so check the session first (HEAD).
   */
  async httpRequest(pathAndQuery: string, opts: Omit<StreamRequestOptions, "what"> & { what?: string }): Promise<Dispatcher.ResponseData> {
    const url = new URL(pathAndQuery, this.endpoint.url).toString();
    const what = opts.what ?? `${this.endpoint.name} ${opts.method} ${pathAndQuery.split("?", 1)[0]}`;
    const send = async () => {
      this.stats.requests++;
      const headers = { ...opts.headers, ...(this.#cookie ? { cookie: this.#cookie } : {}) };
      return streamRequest(this.longHeldAgent, url, { ...opts, headers, what });
    };
    const generation = this.sessionGeneration;
    const res = await send();
    if (res.statusCode !== 401 || opts.body || this.#session === undefined) return res;
    await res.body.dump().catch(() => undefined);
    await this.ensureSession(generation);
    return send();
  }

  /** SessionManager.Login with the endpoint's credentials; sets the session cookie. */
  async login(): Promise<UserSession> {
    const sm = this.serviceContent.sessionManager;
    if (!sm) throw new Error(`${this.endpoint.name}: service content has no sessionManager`);
    const res = await this.call(
      "Login",
      sm,
      { userName: this.endpoint.username, password: this.endpoint.password },
      { relogin: false },
    );
    this.#session = toUserSession(res);
    this.stats.logins++;
    this.sessionGeneration++;
    for (const l of this.#loginListeners) l();
    return this.#session;
  }

  /** SessionManager.Logout; forgets the cookie even if the call fails. */
  async logout(): Promise<void> {
    const sm = this.#serviceContent?.sessionManager;
    if (!sm || !this.#session) return;
    try {
      await this.call("Logout", sm, {}, { relogin: false, deadlineMs: Math.min(this.endpoint.timeout_ms, 5000) });
    } finally {
      this.#session = undefined;
      this.#cookie = undefined;
    }
  }

  /** Log out (best effort) and close the agent's sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    openClients.delete(this);
    await this.logout().catch((err) => this.logger.debug("logout on close failed", { err }));
    if (this.#ownsAgent) await this.dropConnections();
  }

  /**
   * Close every socket now, without logging out: for a peer that may be hung, where a Logout
   * would wait for its deadline. Requests in flight fail.
   */
  async dropConnections(): Promise<void> {
    openClients.delete(this);
    // destroy, not close: close() would wait for a socket stuck in connect until its timeout.
    await Promise.all([this.agent.destroy().catch(() => undefined), this.longHeldAgent.destroy().catch(() => undefined)]);
  }

  async #send(method: string, thisRef: MoRef, args: Record<string, SoapValue>, opts: CallOptions): Promise<SoapValue> {
    const what = `${this.endpoint.name} ${method}`;
    const headers: Record<string, string> = {
      "content-type": "text/xml; charset=utf-8",
      soapaction: SOAP_ACTION,
    };
    if (this.#cookie) headers.cookie = this.#cookie;
    this.stats.requests++;
    const labels = { endpoint: this.endpoint.name, method };
    const started = performance.now();
    try {
      const res = await postText(opts.longHeld ? this.longHeldAgent : this.agent, this.endpoint.url, buildRequest(method, thisRef, Object.entries(args)), {
        headers,
        deadlineMs: opts.deadlineMs ?? this.endpoint.timeout_ms,
        what,
        signal: opts.signal,
      });
      this.#captureCookie(res.headers["set-cookie"]);
      if (res.status === 200) return decodeResponse(res.body) as SoapValue;
      throw errorForStatus(what, res.status, res.body);
    } catch (err) {
      requestErrors.inc({ endpoint: this.endpoint.name, code: errorCode(err) ?? "unknown" });
      throw err;
    } finally {
      requestSeconds.observe(labels, (performance.now() - started) / 1000);
    }
  }

  #captureCookie(setCookie: string | string[] | undefined): void {
    if (!setCookie) return;
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const pair = line.split(";", 1)[0]?.trim();
      if (pair?.startsWith(`${COOKIE_NAME}=`)) this.#cookie = pair;
    }
  }
}

/**
 * Sessionless liveness probe: one RetrieveServiceContent (no Login) within `timeoutMs`.
 * Resolves with the service content; rejects with the transport's typed errors.
 * Pass `agent` to reuse a keep-alive connection between probes.
 */
export async function probeServiceContent(
  endpoint: EndpointConfig,
  timeoutMs: number,
  opts: { agent?: Agent; signal?: AbortSignal } = {},
): Promise<ServiceContent> {
  const agent = opts.agent ?? createHttpAgent({ ...endpoint, timeout_ms: timeoutMs });
  try {
    const res = await postText(agent, endpoint.url, buildRequest("RetrieveServiceContent", SERVICE_INSTANCE), {
      headers: { "content-type": "text/xml; charset=utf-8", soapaction: SOAP_ACTION },
      deadlineMs: timeoutMs,
      what: `${endpoint.name} RetrieveServiceContent`,
      signal: opts.signal,
    });
    if (res.status === 200) return toServiceContent(decodeResponse(res.body));
    throw errorForStatus(`${endpoint.name} RetrieveServiceContent`, res.status, res.body);
  } finally {
    if (!opts.agent) await agent.destroy().catch(() => undefined);
  }
}

/** A SOAP fault for a 500 that carries one; HttpStatusError for anything else (proxies, wrong path). */
function errorForStatus(what: string, status: number, body: string): Error {
  if (status === 500) {
    try {
      return faultFromResponse(body);
    } catch {
      // not a SOAP envelope: fall through
    }
  }
  const excerpt = body.replace(/\s+/g, " ").trim().slice(0, 200);
  return new HttpStatusError(status, `${what}: HTTP ${status}${excerpt ? `: ${excerpt}` : ""}`);
}
