// What a resource handler gets and returns. Handlers are plain functions over the request
// context; server.ts owns HTTP, TLS, auth and error rendering.
import type { Logger } from "../log/logger.ts";
import type { LoginLimiter } from "./login-limiter.ts";
import type { RedfishProvider } from "./provider.ts";
import type { Session, SessionStore } from "./sessions.ts";
import type { TaskStore } from "./tasks.ts";

export interface ServiceEnv {
  provider: RedfishProvider;
  sessions: SessionStore;
  tasks: TaskStore;
  limiter: LoginLimiter;
  logger: Logger;
  credentials: { username: string; password: string };
  /** How long InsertMedia waits for the transfer before answering 202 with a task monitor. */
  mediaWaitMs: number;
  /** Stable ServiceRoot UUID. */
  serviceUuid: string;
  version: string;
}

export interface RequestContext {
  env: ServiceEnv;
  method: string;
  path: string;
  params: Record<string, string>;
  headers: Headers;
  source: string;
  /** Authenticated user, "" on public resources. */
  user: string;
  session?: Session;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  /** Let this request wait longer than the idle timeout (a long InsertMedia). */
  keepOpen(seconds: number): void;
}

export interface Reply {
  status?: number;
  body?: Record<string, unknown>;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Add ETag/@odata.etag (GET of a resource). Default true for GET bodies. */
  etag?: boolean;
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  /** Path pattern with :params, e.g. "/redfish/v1/Systems/:id". */
  pattern: string;
  /** Resource name for metrics ("ComputerSystem"). */
  name: string;
  /** Answers without credentials (service root, $metadata, odata, session login). */
  public?: Method[];
  methods: Partial<Record<Method, Handler>>;
}
