// One shared, lazily connected session per endpoint name, so every BMC on the same vCenter
// shares one login, one keep-alive agent and one property watch.
import type { EndpointConfig } from "../config/types.ts";
import { VimClient, type VimClientOptions } from "./client.ts";

export class VimClientPool {
  readonly #endpoints: Map<string, EndpointConfig>;
  readonly #opts: VimClientOptions;
  readonly #clients = new Map<string, Promise<VimClient>>();
  #closed = false;

  /** `endpoints`: config's [vcenter.*] and/or [esxi.*] tables, keyed by name. */
  constructor(endpoints: Record<string, EndpointConfig> | EndpointConfig[], opts: Omit<VimClientOptions, "agent"> = {}) {
    const list = Array.isArray(endpoints) ? endpoints : Object.values(endpoints);
    this.#endpoints = new Map(list.map((e) => [e.name, e]));
    this.#opts = opts;
  }

  /**
   * The connected client for `name`, connecting on first use. Concurrent callers share one
   * connect; a failed connect is forgotten so the next call tries again.
   */
  get(name: string): Promise<VimClient> {
    if (this.#closed) return Promise.reject(new Error("VimClientPool is closed"));
    const existing = this.#clients.get(name);
    if (existing) return existing;
    const endpoint = this.#endpoints.get(name);
    if (!endpoint) return Promise.reject(new Error(`no endpoint named "${name}"`));
    const p = VimClient.connect(endpoint, this.#opts);
    this.#clients.set(name, p);
    p.catch(() => {
      if (this.#clients.get(name) === p) this.#clients.delete(name);
    });
    return p;
  }

  /** Names of configured endpoints. */
  names(): string[] {
    return [...this.#endpoints.keys()];
  }

  /** Log out and close every connected client. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}
