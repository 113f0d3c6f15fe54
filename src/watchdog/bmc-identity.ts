// Is each host's configured BMC really that host's? A wrong `bmc` address (esx01's entry
// pointing at esx03's BMC) would power off a healthy host and "confirm" the fence on it. So,
// while a host is healthy, its hardware uuid (hardware.systemInfo.uuid) is read from the host
// and the System GUID from the BMC, and they must match (in any vendor byte order, see
// src/ipmi/guid.ts). A mismatch, or a BMC that cannot be identified, means that host is never
// fenced; a `bmc.guid` pin replaces the host's uuid in the comparison. The fence session
// itself checks again (verifyFenceSession) before it sends power off.
import { join } from "node:path";
import type { EsxiConfig, PhysicalBmcConfig } from "../config/types.ts";
import { BmcIdentityError } from "../errors.ts";
import { type GuidOrder, guidString, isBlankGuid, matchGuid, normalizeUuid } from "../ipmi/guid.ts";
import type { Logger } from "../log/logger.ts";
import { str } from "../vsphere/convert.ts";
import { defaultHost } from "../vsphere/host.ts";
import { retrieveOne } from "../vsphere/properties.ts";
import type { BmcGuid, ChassisSession, OpenChassis } from "./fence.ts";
import type { HostClients } from "./hosts.ts";
import type { WatchdogEvent } from "./notify.ts";
import { fileSafe, readJson, watchdogDir, writeJsonDurably } from "./store.ts";

export type IdentityState = "unchecked" | "verified" | "pinned" | "mismatch" | "unidentified";

export interface BmcIdentity {
  state: IdentityState;
  /** "address:port" of the BMC the verdict is about (a changed address is checked afresh). */
  bmc: string;
  /** The BMC's GUID, read in SMBIOS order (the commonest), or as the order it matched in. */
  guid?: string;
  /** The byte order in which it matched. */
  order?: GuidOrder;
  source?: BmcGuid["source"];
  /** The host's hardware.systemInfo.uuid, as the host itself reported it. */
  hostUuid?: string;
  pinned?: string;
  reason?: string;
  checkedAt?: string;
}

/** Only these may be fenced. */
export function fenceable(id: BmcIdentity | undefined): boolean {
  return id?.state === "verified" || id?.state === "pinned";
}

/** Not ruled out yet: unchecked BMCs are judged on the fence's own session. */
export function mayBeFenceable(id: BmcIdentity | undefined): boolean {
  return id?.state !== "mismatch" && id?.state !== "unidentified";
}

const where = (bmc: PhysicalBmcConfig) => `${bmc.address}:${bmc.port}`;

/** The verdict on one reading of a BMC's GUID (or the error that prevented it). */
export function judgeIdentity(bmc: PhysicalBmcConfig, read: BmcGuid | Error, hostUuid: string | undefined, now: number): BmcIdentity {
  const base = { bmc: where(bmc), checkedAt: new Date(now).toISOString(), ...(hostUuid ? { hostUuid } : {}), ...(bmc.guid ? { pinned: normalizeUuid(bmc.guid) } : {}) };
  if (read instanceof Error) return { ...base, state: "unidentified", reason: `the BMC's System GUID could not be read: ${read.message}` };
  const guid = guidString(read.bytes, "smbios");
  const seen = { ...base, guid, source: read.source };
  if (isBlankGuid(read.bytes)) return { ...seen, state: "unidentified", reason: `the BMC reports a blank System GUID (${guid})` };
  if (bmc.guid) {
    const order = matchGuid(read.bytes, bmc.guid);
    return order ? { ...seen, guid: guidString(read.bytes, order), state: "pinned", order } : { ...seen, state: "mismatch", reason: `the BMC reports System GUID ${guid}, not the pinned bmc.guid ${base.pinned}` };
  }
  if (!hostUuid) return { ...seen, state: "unidentified", reason: "the host's hardware uuid is not known yet (it is read while the host answers)" };
  const order = matchGuid(read.bytes, hostUuid);
  if (order) return { ...seen, guid: guidString(read.bytes, order), state: "verified", order };
  if (read.source === "rakp2") {
    return { ...seen, state: "unidentified", reason: `the BMC does not answer Get System GUID, and its session GUID ${guid} is not the host's hardware uuid ${hostUuid}: set bmc.guid = "${guid}" if this BMC is the host's` };
  }
  return { ...seen, state: "mismatch", reason: `the BMC reports System GUID ${guid}, which is not the host's hardware uuid ${hostUuid} in any byte order: it is another machine's BMC` };
}

async function readGuid(session: ChassisSession): Promise<BmcGuid> {
  if (!session.systemGuid) throw new Error("this BMC session cannot read a System GUID");
  return session.systemGuid();
}

/** The host's hardware uuid, read from the host itself. */
export async function readHostUuid(clients: HostClients, host: string): Promise<string | undefined> {
  return clients.use(host, async (c) => {
    const ref = await defaultHost(c);
    const raw = str((await retrieveOne(c, ref, ["hardware.systemInfo.uuid"]))["hardware.systemInfo.uuid"]);
    return raw ? normalizeUuid(raw) : undefined;
  });
}

export interface IdentityDeps {
  watchdog: string;
  hosts: readonly string[];
  esxi: Record<string, EsxiConfig>;
  clients: HostClients;
  open: OpenChassis;
  stateDir: string;
  log: Logger;
  now: () => number;
  alertOnce: (key: string, ev: WatchdogEvent) => void;
  clearAlert: (key: string) => void;
  emit: (ev: WatchdogEvent) => void;
  /** Re-check a BMC shown to be its host's this often. */
  recheckMs: number;
  /** Re-check a BMC that is not (yet) shown to be its host's this often. */
  retryMs: number;
  /** Bound on one check (session setup and the command). */
  timeoutMs: number;
}

/** Every watched host's BMC identity, checked in the background while the host answers. */
export class BmcIdentities {
  readonly #d: IdentityDeps;
  readonly #ids = new Map<string, BmcIdentity>();
  #running: Promise<void> | undefined;

  constructor(d: IdentityDeps) {
    this.#d = d;
    let saved: { hosts?: Record<string, BmcIdentity> } | undefined;
    try {
      saved = readJson(this.#file()) as typeof saved;
    } catch (err) {
      // Starting afresh is safe: every BMC is checked again before it may be fenced through.
      d.log.warn("cannot read the persisted BMC identities; checking every BMC afresh", { error: err });
    }
    for (const h of d.hosts) {
      const bmc = d.esxi[h]?.bmc;
      const s = saved?.hosts?.[h];
      // A verdict about another address (the config changed) is worth nothing; the uuid is kept.
      if (bmc && s && typeof s.state === "string") this.#ids.set(h, s.bmc === where(bmc) ? s : { state: "unchecked", bmc: where(bmc), hostUuid: s.hostUuid });
    }
  }

  get(host: string): BmcIdentity {
    const bmc = this.#d.esxi[host]?.bmc;
    return this.#ids.get(host) ?? { state: "unchecked", bmc: bmc ? where(bmc) : "(none)" };
  }

  snapshot(): Record<string, BmcIdentity> {
    return Object.fromEntries(this.#d.hosts.map((h) => [h, this.get(h)]));
  }

  /**
   * Check, in the background, the BMCs that are due. One pass at a time. A host that does not
   * answer is judged by the uuid it reported while it did (persisted).
   */
  refresh(): void {
    if (this.#running) return;
    const now = this.#d.now();
    const due = this.#d.hosts.filter((h) => {
      if (!this.#d.esxi[h]?.bmc) return false;
      const id = this.#ids.get(h);
      if (!id?.checkedAt) return true;
      return now - Date.parse(id.checkedAt) >= (fenceable(id) ? this.#d.recheckMs : this.#d.retryMs);
    });
    if (!due.length) return;
    this.#running = (async () => {
      for (const h of due) await this.#check(h).catch((err) => this.#d.log.debug("BMC identity check failed", { host: h, error: err }));
      this.#save();
    })().finally(() => {
      this.#running = undefined;
    });
  }

  async stop(): Promise<void> {
    await this.#running;
  }

  /** Before power off, on the fence's own session: throws BmcIdentityError unless it is the host's BMC. */
  async verifyFenceSession(host: string, bmc: PhysicalBmcConfig, session: ChassisSession): Promise<void> {
    const known = this.#ids.get(host)?.hostUuid;
    // A lost reply is retried by the fence loop (on a new session) within fence_timeout_s: no
    // power command is sent before a verdict. Only a definite verdict refuses the fence.
    const read = session.systemGuid ? await session.systemGuid() : new Error("this BMC session cannot read a System GUID");
    const id = judgeIdentity(bmc, read, known, this.#d.now());
    this.#set(host, id);
    this.#save();
    if (!fenceable(id)) throw new BmcIdentityError(`refusing to fence ${host} through BMC ${id.bmc}: ${id.reason}`);
  }

  async #check(host: string): Promise<void> {
    const bmc = this.#d.esxi[host]?.bmc;
    if (!bmc) return;
    const hostUuid = (await readHostUuid(this.#d.clients, host).catch(() => undefined)) ?? this.#ids.get(host)?.hostUuid;
    let session: ChassisSession | undefined;
    let read: BmcGuid | Error;
    try {
      session = await this.#d.open(bmc, { timeoutMs: this.#d.timeoutMs });
      read = await readGuid(session);
    } catch (err) {
      read = err instanceof Error ? err : new Error(String(err));
    } finally {
      await session?.close().catch(() => undefined);
    }
    this.#set(host, judgeIdentity(bmc, read, hostUuid, this.#d.now()));
  }

  #set(host: string, id: BmcIdentity): void {
    const before = this.#ids.get(host);
    this.#ids.set(host, id);
    const key = `bmc_identity:${host}`;
    if (fenceable(id)) {
      this.#d.clearAlert(key);
      if (before?.state !== id.state) {
        this.#d.emit({ kind: "bmc_verified", severity: "info", message: `the BMC ${id.bmc} is ${host}'s (System GUID ${id.guid}${id.state === "pinned" ? ", pinned" : `, ${id.order} order`})`, fields: { host, ...id } });
      }
      return;
    }
    this.#d.alertOnce(key, { kind: "bmc_identity", severity: "critical", message: `${host} will never be fenced: ${id.reason}`, fields: { host, ...id } });
  }

  #file(): string {
    return join(watchdogDir(this.#d.stateDir), `${fileSafe(this.#d.watchdog)}.identity.json`);
  }

  #save(): void {
    try {
      writeJsonDurably(this.#file(), { version: 1, hosts: Object.fromEntries(this.#ids) });
    } catch (err) {
      this.#d.log.error("cannot persist the BMC identities", { error: err });
    }
  }
}
