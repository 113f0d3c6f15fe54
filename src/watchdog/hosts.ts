// Sessions to the ESXi hosts a watchdog watches (host-direct: vCenter may be the protected VM),
// opened on first use and dropped when a call fails for a transport reason, so a host that
// comes back gets a fresh connection and login.
import type { EsxiConfig } from "../config/types.ts";
import { errorCode } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { VimClient } from "../vsphere/client.ts";

/** Error codes after which a session is not worth keeping. */
const TRANSPORT_CODES = new Set(["ESX_CONNECT", "ESX_DEADLINE", "ESX_HTTP_STATUS", "ESX_TLS_VERIFY", "ESX_TLS_PIN", "ESX_SOAP_PROTOCOL", "ESX_XML"]);

export class HostClients {
  readonly #esxi: Record<string, EsxiConfig>;
  readonly #logger: Logger;
  readonly #clients = new Map<string, Promise<VimClient>>();

  constructor(esxi: Record<string, EsxiConfig>, logger: Logger) {
    this.#esxi = esxi;
    this.#logger = logger;
  }

  endpoint(host: string): EsxiConfig {
    const e = this.#esxi[host];
    if (!e) throw new Error(`no [esxi.${host}] endpoint`);
    return e;
  }

  /** The session to `host`, logging in if needed. */
  get(host: string): Promise<VimClient> {
    let p = this.#clients.get(host);
    if (!p) {
      const { bmc: _bmc, ...endpoint } = this.endpoint(host);
      p = VimClient.connect(endpoint, { logger: this.#logger });
      this.#clients.set(host, p);
      p.catch(() => {
        if (this.#clients.get(host) === p) this.#clients.delete(host);
      });
    }
    return p;
  }

  /** Run `fn` with the host's session; a transport failure closes the session before rethrowing. */
  async use<T>(host: string, fn: (c: VimClient) => Promise<T>): Promise<T> {
    const client = await this.get(host);
    try {
      return await fn(client);
    } catch (err) {
      const code = errorCode(err);
      if (code && TRANSPORT_CODES.has(code)) await this.drop(host);
      throw err;
    }
  }

  /** Forget (and close, best effort, without waiting on a dead peer) the session to `host`. */
  async drop(host: string): Promise<void> {
    const p = this.#clients.get(host);
    if (!p) return;
    this.#clients.delete(host);
    const c = await p.catch(() => undefined);
    // Logout to a hung host would wait for its deadline; close the sockets only.
    if (c) void c.dropConnections();
  }

  /** Log out of `answering` hosts (bounded by their deadlines); just drop the sockets of the others. */
  async closeAll(answering: ReadonlySet<string>): Promise<void> {
    const all = [...this.#clients.keys()];
    await Promise.allSettled(
      all.map(async (h) => {
        const p = this.#clients.get(h);
        this.#clients.delete(h);
        const c = await p?.catch(() => undefined);
        if (!c) return;
        if (answering.has(h)) await c.close();
        else await c.dropConnections();
      }),
    );
  }
}
