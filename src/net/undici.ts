// The real undici, loaded lean. Two traps decide how this file imports it:
// - a bare "undici" import under Bun is Bun's inert shim (its Agent ignores TLS options and
//   pooling), so the npm package must be named by a file path;
// - "undici/index.js" evaluates everything the package has (fetch, WebSocket, caches, mocks,
//   proxies): about 10 ms at every start of the compiled binary, which `esxkit vm power` paid
//   before it sent a byte. We use three pieces of it: Agent, buildConnector, and the request API.
// So the pieces are loaded by their files, and the request API is attached to Dispatcher the
// way index.js itself does it. Types come from the package's own declarations.
import type * as Undici from "undici/index.js";
import AgentImpl from "undici/lib/dispatcher/agent.js";
import DispatcherImpl from "undici/lib/dispatcher/dispatcher.js";
import api from "undici/lib/api/index.js";
import buildConnectorImpl from "undici/lib/core/connect.js";

// index.js does exactly this: the request/stream/pipeline methods live on Dispatcher.prototype.
Object.assign(DispatcherImpl.prototype, api);

export const Agent = AgentImpl as unknown as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = buildConnectorImpl as unknown as typeof Undici.buildConnector;
export type Connector = Undici.buildConnector.connector;
export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, "origin" | "path" | "method"> & {
  method?: Undici.Dispatcher.HttpMethod;
  dispatcher: Undici.Dispatcher;
};
export type ResponseData = Undici.Dispatcher.ResponseData;

/** undici's top-level request(url, opts) for an explicit dispatcher (we never use the global one). */
export function request(url: string | URL, opts: RequestOptions): Promise<ResponseData> {
  const u = typeof url === "string" ? new URL(url) : url;
  const { dispatcher, ...rest } = opts;
  return dispatcher.request({ ...rest, method: opts.method ?? "GET", origin: u.origin, path: `${u.pathname}${u.search}` });
}
