// Endpoints and clients for vSphere client tests against the simulator.
import type { EndpointConfig, TlsTrust } from "../../../src/config/types.ts";
import { VimClient, type VimClientOptions } from "../../../src/vsphere/client.ts";
import { type Vcsim, type VcsimOptions, VcsimSet } from "../vcsim.ts";

export type { Vcsim };

/** An EndpointConfig for a running simulator, pinned to its certificate by default. */
export function simEndpoint(sim: Vcsim, over: Partial<EndpointConfig> = {}): EndpointConfig {
  const tls: TlsTrust = { mode: "thumbprint", thumbprint: sim.thumbprintSha256 };
  return {
    name: `sim-${sim.mode}`,
    url: sim.url,
    username: sim.username,
    password: sim.password,
    tls,
    timeout_ms: 10_000,
    ...over,
  };
}

export function connectSim(sim: Vcsim, over: Partial<EndpointConfig> = {}, opts: VimClientOptions = {}): Promise<VimClient> {
  return VimClient.connect(simEndpoint(sim, over), opts);
}

/** Start a simulator and register its stop (and every client's close) for afterAll. */
export class SimFixture {
  private readonly sims = new VcsimSet();
  clients: VimClient[] = [];

  start(opts: VcsimOptions): Promise<Vcsim> {
    return this.sims.start(opts);
  }

  async connect(sim: Vcsim, over: Partial<EndpointConfig> = {}, opts: VimClientOptions = {}): Promise<VimClient> {
    const c = await connectSim(sim, over, opts);
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
    await this.sims.stopAll();
  }
}

/** Poll `fn` until it returns a truthy value, at most `timeoutMs`. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** A thumbprint that differs from `tp` in its last hex digit. */
export function flipLastDigit(tp: string): string {
  return tp.slice(0, -1) + (tp.endsWith("0") ? "1" : "0");
}
