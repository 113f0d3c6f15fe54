// Running a watchdog service against a simulated cluster, with its log captured in memory.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WatchdogConfig } from "../../../src/config/types.ts";
import { createLogger, type Logger } from "../../../src/log/logger.ts";
import { MetricsRegistry } from "../../../src/log/metrics.ts";
import { journalPath, readJournal } from "../../../src/watchdog/journal.ts";
import { createWatchdogService, type WatchdogDeps, type WatchdogService } from "../../../src/watchdog/service.ts";
import { type Cluster, VM_NAME } from "./cluster.ts";

/** Settings fast enough for tests; timing is never asserted. */
export function testConfig(hosts: string[], patch: Partial<WatchdogConfig> = {}): WatchdogConfig {
  return {
    name: "mgmt",
    vm: VM_NAME,
    hosts,
    isolation_addresses: [],
    // Short, but with room for a loaded 2-core machine: a slow probe must not look like a dead host.
    probe_interval_ms: 500,
    probe_timeout_ms: 400,
    misses_to_fail: 3,
    successes_to_recover: 2,
    cooldown_s: 600,
    max_failovers_per_hour: 2,
    fence_timeout_s: 20,
    lock_retry_s: 30,
    claim_ttl_s: 120,
    dry_run: false,
    ...patch,
  };
}

export interface Running {
  service: WatchdogService;
  stateDir: string;
  logs: string[];
  logger: Logger;
  metrics: MetricsRegistry;
  journal(): Record<string, unknown>[];
  kinds(): string[];
  /** Log tail for failure messages. */
  tail(n?: number): string;
  stop(): Promise<void>;
}

export function makeStateDir(): string {
  return mkdtempSync(join(tmpdir(), "esxkit-wd-state-"));
}

export async function runWatchdog(cluster: Cluster, cfg: WatchdogConfig, opts: { stateDir?: string; deps?: Partial<WatchdogDeps> } = {}): Promise<Running> {
  const stateDir = opts.stateDir ?? makeStateDir();
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", journal: false, write: (l) => logs.push(l) });
  const metrics = new MetricsRegistry();
  const service = createWatchdogService(cfg, { esxi: cluster.esxi(), logger, stateDir, metrics, ...opts.deps });
  await service.start();
  const journal = () => readJournal(journalPath(stateDir));
  return {
    service,
    stateDir,
    logs,
    logger,
    metrics,
    journal,
    kinds: () => journal().map((r) => String(r.kind)),
    tail: (n = 40) => logs.slice(-n).join("\n"),
    stop: () => service.stop(),
  };
}

export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** What a test started, torn down in order by clear() (call it from afterEach). */
export class Leftovers {
  readonly clusters: Cluster[] = [];
  readonly running: Running[] = [];
  readonly dirs: string[] = [];

  async clear(): Promise<void> {
    for (const w of this.running.splice(0)) await w.stop();
    for (const c of this.clusters.splice(0)) await c.stop();
    for (const d of this.dirs.splice(0)) removeStateDir(d);
  }
}

/** Poll `check` every 100 ms until it returns a truthy value; bounded. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 45_000, describe?: () => string): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}${describe ? `\n${describe()}` : ""}`);
    }
    await Bun.sleep(100);
  }
}

export const sleep = (ms: number) => Bun.sleep(ms);

/** Let `n` more probe rounds pass (counted, not timed). */
export async function rounds(w: Running, n: number): Promise<void> {
  const target = w.service.status().rounds + n;
  await waitFor(() => w.service.status().rounds >= target, `${n} more probe rounds`, 30_000, () => w.tail());
}

/** The protected VM's registrations on `host`, as its simulator reports them. */
export async function copies(c: Cluster, host: string): Promise<Array<Record<string, unknown>>> {
  return (await c.vms(host)).filter((v) => v.name === VM_NAME);
}

/** esx01 was not fenced and the VM was not registered on esx02. */
export async function nothingHappened(c: Cluster, w: Running): Promise<void> {
  expect(c.host("esx01").count("power_off")).toBe(0);
  expect(await copies(c, "esx02")).toHaveLength(0);
  expect(w.kinds()).not.toContain("fence_started");
  expect(w.kinds()).not.toContain("registered");
}

/** A stand-in for the protected VM's own service (vm_probe): a TCP listener that can go away. */
export class VmEndpoint {
  #server: Bun.TCPSocketListener<undefined> | undefined;
  port = 0;

  static async start(): Promise<VmEndpoint> {
    const e = new VmEndpoint();
    e.up();
    return e;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  up(): void {
    if (this.#server) return;
    const server = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: this.port,
      socket: {
        open(s) {
          s.end();
        },
        data() {},
      },
    });
    this.#server = server;
    this.port = server.port;
  }

  /** The VM stops answering: the port refuses connections. */
  down(): void {
    this.#server?.stop(true);
    this.#server = undefined;
  }
}
