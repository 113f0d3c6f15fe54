// One actor per VM, however many esxkit instances watch it: before it fences, an instance claims
// the failover on the VM's own datastore, through a host that survives. The claim is a
// directory created with FileManager.MakeDirectory, which fails with FileAlreadyExists when the
// directory exists; VMFS makes that atomic across every host that mounts the volume, and it is
// the only thing relied on for mutual exclusion. Layout, in the VM's directory:
//
//   .esxkit-claims/epoch-000007                      the claim (whoever created it holds it)
//   .esxkit-claims/epoch-000007.by-<holder>.ttl-300  who holds it, and for how long (informative)
//   .esxkit-claims/epoch-000007.done                 the holder is finished: the next may claim
//
// A new claim takes the next epoch after the latest, and only when the latest is done, is this
// instance's own (a restart), or has expired. Expiry needs no shared clock: an observer counts
// the TTL from the moment it first saw the epoch, which is after its holder created it, and the
// holder counts its own TTL from before it asked. So by the time an observer gives up waiting,
// the holder has stopped taking steps. The holder never starts a step (fence, register, power
// on) that could outlast what is left of its claim. No claim, no fence.
import { hostname } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { WatchdogConfig } from "../config/types.ts";
import { FailoverError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { faultType, listFolder, makeDirectory } from "../vsphere/files.ts";
import { defaultHost, hostDatastores } from "../vsphere/host.ts";
import { normalizeDatastoreUrl, parseDatastorePath } from "./datastore-path.ts";
import type { HostClients } from "./hosts.ts";
import type { LearnedVm } from "./learn.ts";
import { readJson, watchdogDir, writeJsonDurably } from "./store.ts";

export const CLAIM_FOLDER = ".esxkit-claims";
const EPOCH = /^epoch-(\d{6,})(?:\.(done)|\.by-([A-Za-z0-9_-]+)\.ttl-(\d+))?$/;

export interface EpochInfo {
  epoch: number;
  holder?: string;
  ttlS?: number;
  done: boolean;
}

/** The epochs found in a claim folder listing, by number. */
export function parseClaims(names: readonly string[]): Map<number, EpochInfo> {
  const out = new Map<number, EpochInfo>();
  for (const n of names) {
    const m = EPOCH.exec(n);
    if (!m) continue;
    const epoch = Number(m[1]);
    const e = out.get(epoch) ?? { epoch, done: false };
    if (m[2]) e.done = true;
    if (m[3]) {
      e.holder = m[3];
      e.ttlS = Number(m[4]);
    }
    out.set(epoch, e);
  }
  return out;
}

export const epochName = (n: number) => `epoch-${String(n).padStart(6, "0")}`;

export type ClaimOutcome =
  | { won: true; epoch: number; via: string; remainingMs: number; reused: boolean }
  | { won: false; epoch: number; via: string; holder?: string; waitMs: number };

interface Held {
  key: string;
  folder: string;
  via: string;
  epoch: number;
  deadline: number;
}

export interface ArbiterDeps {
  cfg: WatchdogConfig;
  clients: HostClients;
  stateDir: string;
  log: Logger;
  now: () => number;
}

/**
 * This installation's holder name: the machine's name and a random id persisted in state_dir.
 * When state_dir cannot be read or written the id lives for this process only: after a restart
 * its own claim then has to expire like anyone's (slower, never unsafe).
 */
export function holderId(stateDir: string, log?: Logger): string {
  const file = join(watchdogDir(stateDir), "instance.json");
  let id: unknown;
  try {
    id = (readJson(file) as { id?: unknown } | undefined)?.id;
  } catch (err) {
    log?.warn("cannot read the instance id; using one for this process only", { file, error: err });
  }
  if (typeof id !== "string" || !/^[0-9a-f-]{8,}$/.test(id)) {
    id = randomUUID();
    try {
      writeJsonDurably(file, { id });
    } catch (err) {
      log?.warn("cannot persist the instance id; using one for this process only", { file, error: err });
    }
  }
  const host = hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "host";
  return `${host}_${(id as string).slice(0, 8)}`;
}

export class FailoverArbiter {
  readonly #d: ArbiterDeps;
  readonly holder: string;
  #held: Held | undefined;
  /** When this instance first saw an epoch it does not hold (claim key → ms). */
  readonly #firstSeen = new Map<string, number>();

  constructor(d: ArbiterDeps) {
    this.#d = d;
    this.holder = holderId(d.stateDir, d.log);
  }

  get ttlMs(): number {
    return this.#d.cfg.claim_ttl_s * 1000;
  }

  /** Ms left on the claim this instance holds (0: none). */
  remaining(): number {
    return this.#held ? Math.max(0, this.#held.deadline - this.#d.now()) : 0;
  }

  get heldEpoch(): number | undefined {
    return this.remaining() > 0 ? this.#held?.epoch : undefined;
  }

  /** Throws unless the held claim has `budgetMs` left: a step that could outlast it is not begun. */
  ensure(budgetMs: number, step: string): void {
    const left = this.remaining();
    if (left < budgetMs) {
      throw new FailoverError("claim_expired", `not starting ${step}: ${Math.round(left / 1000)} s are left on this instance's failover claim, and it may take ${Math.round(budgetMs / 1000)} s (claim_ttl_s)`);
    }
  }

  /**
   * Claim the failover of `learned` through one of `via` (healthy hosts other than the failed
   * one that mount the VM's datastore). Throws when no host lets it read or write the claim folder.
   */
  async claim(learned: LearnedVm, via: readonly string[]): Promise<ClaimOutcome> {
    const errors: string[] = [];
    for (const host of [...via].sort()) {
      try {
        return await this.#claimVia(host, learned);
      } catch (err) {
        errors.push(`${host}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new FailoverError("no_arbiter", `the failover claim on the VM's datastore could not be reached${errors.length ? ` (${errors.join("; ")})` : ": no healthy host mounts it"}`);
  }

  /** Mark the held claim done (best effort): the next failover need not wait for it to expire. */
  async release(): Promise<void> {
    const h = this.#held;
    this.#held = undefined;
    if (!h) return;
    await this.#d.clients
      .use(h.via, (c) => makeDirectory(c, `${h.folder}/${epochName(h.epoch)}.done`))
      .catch((err) => this.#d.log.warn("could not mark the failover claim done; others wait for it to expire", { epoch: h.epoch, error: err }));
  }

  /** Forget the held claim without marking it done (it was taken over, or it expired). */
  drop(): void {
    this.#held = undefined;
  }

  async #claimVia(host: string, learned: LearnedVm): Promise<ClaimOutcome> {
    const { clients, now } = this.#d;
    const ds = await clients.use(host, async (c) => (await hostDatastores(c, await defaultHost(c))).find((d) => normalizeDatastoreUrl(d.url) === normalizeDatastoreUrl(learned.datastoreUrl)));
    if (!ds || !ds.accessible) throw new Error(`it does not ${ds ? "reach" : "mount"} the datastore ${learned.datastoreUrl}`);
    const file = parseDatastorePath(learned.vmxPath).file;
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
    const folder = `[${ds.name}] ${dir ? `${dir}/` : ""}${CLAIM_FOLDER}`;
    const key = `${normalizeDatastoreUrl(learned.datastoreUrl)}/${dir}`;
    let names = await clients.use(host, (c) => listFolder(c, ds.ref, folder));
    if (!names) {
      await clients.use(host, (c) => makeDirectory(c, folder, { createParents: true })).catch((err) => {
        if (faultType(err) !== "FileAlreadyExists") throw err;
      });
      names = [];
    }
    const claims = parseClaims(names);
    const latest = Math.max(0, ...claims.keys());
    const held = this.#held;
    if (held && held.key === key && held.epoch === latest && this.remaining() > 0) return { won: true, epoch: latest, via: held.via, remainingMs: this.remaining(), reused: true };
    if (held && (held.key !== key || held.epoch !== latest)) this.#held = undefined; // superseded, or another VM home
    const top = claims.get(latest);
    if (top && !top.done && top.holder !== this.holder) {
      const seenKey = `${key}#${latest}`;
      const first = this.#firstSeen.get(seenKey) ?? now();
      this.#firstSeen.set(seenKey, first);
      const ttl = Math.max(this.ttlMs, (top.ttlS ?? 0) * 1000);
      const waitMs = first + ttl - now();
      if (waitMs > 0) return { won: false, epoch: latest, via: host, holder: top.holder, waitMs };
      this.#d.log.warn("the failover claim of another instance expired; claiming the next epoch", { epoch: latest, holder: top.holder });
    }
    const epoch = latest + 1;
    const started = now();
    try {
      await clients.use(host, (c) => makeDirectory(c, `${folder}/${epochName(epoch)}`));
    } catch (err) {
      if (faultType(err) !== "FileAlreadyExists") throw err;
      // Another instance got there first: it holds the new epoch from now on.
      this.#firstSeen.set(`${key}#${epoch}`, now());
      return { won: false, epoch, via: host, waitMs: this.ttlMs };
    }
    this.#held = { key, folder, via: host, epoch, deadline: started + this.ttlMs };
    await clients
      .use(host, (c) => makeDirectory(c, `${folder}/${epochName(epoch)}.by-${this.holder}.ttl-${this.#d.cfg.claim_ttl_s}`))
      .catch((err) => this.#d.log.warn("could not record the failover claim's holder", { epoch, error: err }));
    return { won: true, epoch, via: host, remainingMs: this.remaining(), reused: false };
  }
}
