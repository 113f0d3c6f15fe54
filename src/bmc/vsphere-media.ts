// VirtualMedia for one vSphere VM: the one implementation behind Redfish VirtualMedia and
// `esxkit vm media`. It runs through the BMC's VM link (lookup, deadlines) and its hub's shared
// session; images live in the vCenter's MediaLibrary (media-library.ts).
//
// Wiring (daemon/plan.ts, next to the BMC's VsphereBackend):
//   const media = createVsphereMedia(backend, { bmcName: b.name, logger, mediaDatastore });
//   status: media.state("cd"); stop: await media.close() before backend.close().
// insert() resolves once the image is on the datastore and connected (minutes for a large
// image); a front end may answer its client first and follow media.state("cd").transfer, which
// also records why an insert failed. Errors (errors.ts): ESX_MEDIA_URL (400), ESX_MEDIA_SOURCE
// (502; .reason, .status), ESX_MEDIA_BUSY and ESX_MEDIA_FOREIGN (409), ESX_MEDIA_DATASTORE,
// ESX_MEDIA_SLOT; vCenter unreachable or the VM not found: ESX_BMC_BACKEND (reason unavailable).
//
// insert: fetch the URL and stream it into "[ds] esxkit-media/<key>.iso" (ds: mediaDatastore,
//   default the datastore of the VM's vmx), then point the CD-ROM at it, connected and
//   start-connected, in one ReconfigVM_Task that also records the image URL (without
//   credentials) in extraConfig "esxkit.media.cd.image".
//   Which CD-ROM: the one holding an esxkit image; else the first one holding no media (a
//   host drive, an idle client drive, or an ISO neither connected nor start-connected), whose
//   backing is kept in extraConfig "esxkit.media.cd.previous" and put back on eject; else, when
//   the VM has none, a new one on a free IDE/SATA slot (a SATA controller is added when none is
//   free). A VM whose every CD-ROM holds media esxkit did not insert (an ISO, or a remote
//   console's connected client drive) is refused (MediaForeignError): esxkit never replaces
//   such media, and adds no second drive either (which one the firmware boots would be a guess).
// eject: the CD-ROM gets its previous backing back (default: an empty client-device backing),
//   disconnected. vSphere 8.0U2 refuses that change of backing type on a powered-on VM
//   (InvalidPowerState); then the ISO backing stays, disconnected and not start-connected. The
//   image file is deleted once no VM uses it.
// slots: "cd" only. vSphere can back a floppy with a datastore .flp image, but a floppy holds
//   1.44 MB and Ironic's config drive does not fit; there is no USB-stick image backing.
import { MediaBusyError, MediaDatastoreError, MediaForeignError, MediaSlotError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { VimClient } from "../vsphere/client.ts";
import { addCdrom, type Cdrom, type CdromBacking, editCdrom, freeCdromSlot, readCdromConfig, readCdromConfigCoalesced, reconfigDevices, type VmCdromConfig } from "../vsphere/cdrom.ts";
import { datacenterOf, datastorePath, findDatastore, parseDatastorePath, type DatastoreFile } from "../vsphere/datastore-files.ts";
import type { MoRef } from "../vsphere/soap/types.ts";
import { isInvalidPowerState } from "../vsphere/vm.ts";
import { isLibraryFile, libraryFor, MEDIA_DIR } from "./media-library.ts";
import { failedTransfer } from "./media-transfer.ts";
import { parseImageUrl, redactUrl } from "./media-source.ts";
import type { InsertOptions, MediaSlot, MediaState, VirtualMedia } from "./virtual-media.ts";
import type { VsphereBackend } from "./vsphere-backend.ts";
import type { VsphereVmLink } from "./vsphere-vm-link.ts";

/** extraConfig key holding the inserted image's URL (no credentials), for status after a restart. */
export const IMAGE_KEY = "esxkit.media.cd.image";
/** extraConfig key holding the drive's backing before esxkit took it over (JSON), restored on eject. */
export const PREVIOUS_KEY = "esxkit.media.cd.previous";
const EMPTY: CdromBacking = { kind: "client", deviceName: "" };

export interface VsphereMediaOptions {
  /** The BMC's VM (VsphereBackend.vmLink) and the hub (VsphereBackend.hub) whose session it shares. */
  link: VsphereVmLink;
  hub: object;
  bmcName: string;
  logger: Logger;
  /** `[redfish] media_datastore`: the datastore images go to. Default: the datastore of the VM's vmx. */
  mediaDatastore?: string;
  /** Verify the image server's certificate. Default false (as Redfish BMCs do). */
  verifyTls?: boolean;
  /** Connect, and response headers, of the image URL. Default 30 s. */
  connectTimeoutMs?: number;
  /** Longest gap between chunks, of the download and of the datastore upload. Default 60 s. */
  idleTimeoutMs?: number;
  /** Reconfigure and file tasks. Default 60 s. */
  taskTimeoutMs?: number;
}

type Plan = { kind: "already" } | { kind: "edit"; cd: Cdrom } | { kind: "add"; slot: { controllerKey: number; unitNumber: number }; controller?: { pciKey: number; busNumber: number } };

/**
 * Media in use: an ISO connected (or to be connected at power-on), or a remote console's client
 * drive that is connected right now (someone's desktop ISO). A host drive is not: it is put back
 * on eject.
 */
function holdsMedia(cd: Cdrom): boolean {
  if (cd.backing.kind === "iso") return cd.connected || cd.startConnected;
  return cd.backing.kind === "client" && cd.connected;
}

/** What a drive had before esxkit took it over, put back on eject (extraConfig PREVIOUS_KEY). */
interface Previous {
  backing: CdromBacking;
  connected: boolean;
  startConnected: boolean;
}

function previousOf(cfg: VmCdromConfig): Previous | undefined {
  try {
    const p = JSON.parse(cfg.extraConfig[PREVIOUS_KEY] ?? "") as Previous;
    return p.backing.kind === "client" || p.backing.kind === "host" ? p : undefined;
  } catch {
    return undefined;
  }
}

function describe(b: CdromBacking): string {
  if (b.kind === "iso") return `ISO ${b.fileName}`;
  if (b.kind === "other") return b.type;
  return `${b.kind} device ${b.deviceName || "(auto)"}`;
}

/** Our CD-ROM: the one whose backing is an esxkit image. */
function ours(cfg: VmCdromConfig): Cdrom | undefined {
  return cfg.cdroms.find((c) => c.backing.kind === "iso" && isLibraryFile(c.backing.fileName));
}

export class VsphereMedia implements VirtualMedia {
  readonly #o: VsphereMediaOptions;
  readonly #link: VsphereVmLink;
  readonly #logger: Logger;
  #state: MediaState = { slot: "cd", inserted: false, writeProtected: true, connected: false };
  #busy = false;
  #abort = new AbortController();

  constructor(o: VsphereMediaOptions) {
    this.#o = o;
    this.#link = o.link;
    this.#logger = o.logger.child("media", { bmc: o.bmcName });
    void this.refresh().catch((err) => this.#logger.debug("reading the VM's CD-ROM at start failed", { err }));
  }

  slots(): MediaSlot[] {
    return ["cd"];
  }

  #check(slot: MediaSlot): void {
    if (slot !== "cd") throw new MediaSlotError(`a vSphere VM offers only the cd slot (asked for ${slot})`);
  }

  state(slot: MediaSlot): MediaState {
    this.#check(slot);
    const s = this.#state;
    return { ...s, ...(s.transfer ? { transfer: { ...s.transfer } } : {}) };
  }

  /**
   * Read what the VM's CD-ROM holds now (after a restart, or a change made in vSphere). Runs
   * once by itself when the instance is made, so state() tells the truth after a restart.
   * Coalesced: every BMC starting at once shares a few requests (not one TLS connection each).
   */
  async refresh(): Promise<MediaState> {
    if (!this.#busy) {
      const cfg = await this.#link.withVm("read media", (client, vm) => readCdromConfigCoalesced(client, vm));
      if (!this.#busy) this.#adopt(cfg);
    }
    return this.state("cd");
  }

  #adopt(cfg: VmCdromConfig): void {
    const cd = ours(cfg);
    const inserted = !!cd && holdsMedia(cd);
    const transfer = this.#state.transfer;
    this.#state = {
      slot: "cd",
      inserted,
      writeProtected: true,
      connected: inserted && !!cd && (cfg.powerState === "poweredOn" ? cd.connected : cd.startConnected),
      ...(inserted && cd?.backing.kind === "iso" ? { image: cfg.extraConfig[IMAGE_KEY] || `(datastore file ${cd.backing.fileName})` } : {}),
      ...(transfer ? { transfer } : {}),
    };
  }

  #plan(cfg: VmCdromConfig, image: string): Plan {
    const mine = ours(cfg);
    if (mine && holdsMedia(mine)) {
      if (cfg.extraConfig[IMAGE_KEY] === image) return { kind: "already" };
      throw new MediaBusyError(`the CD-ROM already holds ${cfg.extraConfig[IMAGE_KEY] || describe(mine.backing)}; eject it first`);
    }
    if (mine) return { kind: "edit", cd: mine };
    const empty = cfg.cdroms.find((c) => !holdsMedia(c));
    if (empty) return { kind: "edit", cd: empty };
    if (cfg.cdroms.length) {
      const c = cfg.cdroms[0] as Cdrom;
      throw new MediaForeignError(`"${c.label}" holds ${describe(c.backing)}, which esxkit did not insert; esxkit leaves it alone (disconnect it in vSphere first)`);
    }
    const slot = freeCdromSlot(cfg);
    if (slot) return { kind: "add", slot };
    if (cfg.pciKey === undefined) throw new MediaDatastoreError("the VM has no CD-ROM, no free IDE/SATA slot and no PCI controller for a SATA controller");
    const sataBuses = cfg.controllers.filter((c) => c.type === "VirtualAHCIController").map((c) => c.busNumber);
    const busNumber = sataBuses.length ? Math.max(...sataBuses) + 1 : 0;
    if (busNumber > 3) throw new MediaDatastoreError("the VM has no CD-ROM and no free IDE/SATA slot (4 SATA controllers in use)");
    return { kind: "add", slot: { controllerKey: -200, unitNumber: 0 }, controller: { pciKey: cfg.pciKey, busNumber } };
  }

  async insert(slot: MediaSlot, url: string, options: InsertOptions = {}): Promise<void> {
    this.#check(slot);
    parseImageUrl(url);
    const image = redactUrl(url);
    if (this.#busy) throw new MediaBusyError("the cd slot is busy with another insert or eject");
    this.#busy = true;
    const signal = options.signal ? AbortSignal.any([this.#abort.signal, options.signal]) : this.#abort.signal;
    const taskTimeoutMs = this.#o.taskTimeoutMs ?? 60_000;
    const started = Date.now();
    try {
      await this.#link.withVm("insert media", async (client, vm) => {
        const cfg = await readCdromConfig(client, vm);
        const plan = this.#plan(cfg, image);
        if (plan.kind === "already") return this.#adopt(cfg);
        this.#state = { slot: "cd", inserted: true, image, writeProtected: true, connected: false };
        const file = await this.#upload(client, vm, cfg, url, options, signal);
        const lib = libraryFor(this.#o.hub);
        try {
          const iso: CdromBacking = { kind: "iso", fileName: datastorePath(file) };
          const conn = { connected: cfg.powerState === "poweredOn", startConnected: true, allowGuestControl: true };
          const changes = plan.kind === "edit" ? [editCdrom(plan.cd, iso, conn)] : addCdrom(plan.slot, iso, conn, plan.controller);
          const extra: Record<string, string> = { [IMAGE_KEY]: image };
          if (plan.kind === "edit" && plan.cd.backing.kind !== "iso" && plan.cd.backing.kind !== "other") {
            const prev: Previous = { backing: plan.cd.backing, connected: plan.cd.connected, startConnected: plan.cd.startConnected };
            extra[PREVIOUS_KEY] = JSON.stringify(prev);
          } else if (plan.kind !== "edit" || !isLibraryFile(plan.cd.backing.kind === "iso" ? plan.cd.backing.fileName : "")) {
            extra[PREVIOUS_KEY] = "";
          }
          await reconfigDevices(client, vm, changes, extra, taskTimeoutMs);
        } catch (err) {
          lib.unpin(file);
          await lib.release(client, file, { taskTimeoutMs, logger: this.#logger });
          throw err;
        }
        lib.unpin(file);
        const after = await readCdromConfig(client, vm);
        this.#adopt(after);
        this.#logger.info("image inserted", { image, file: datastorePath(file), connected: this.#state.connected, added: plan.kind === "add" });
      });
    } catch (err) {
      if (this.#state.inserted && !this.#state.connected) {
        this.#state = { slot: "cd", inserted: false, writeProtected: true, connected: false, transfer: failedTransfer(this.#state.transfer, err, started) };
      }
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  async #upload(client: VimClient, vm: MoRef, cfg: VmCdromConfig, url: string, options: InsertOptions, signal: AbortSignal): Promise<DatastoreFile> {
    const datacenter = await datacenterOf(client, vm);
    const datastore = this.#o.mediaDatastore ?? parseDatastorePath(cfg.vmPathName ?? "")?.datastore;
    if (!datastore) throw new MediaDatastoreError(`cannot tell the VM's datastore from its vmx path (${cfg.vmPathName ?? "none"}); set media_datastore`);
    if (this.#o.mediaDatastore && !(await findDatastore(client, datacenter.ref, datastore))) {
      throw new MediaDatastoreError(`media datastore "${datastore}" not found in datacenter ${datacenter.path}`);
    }
    return libraryFor(this.#o.hub).acquire(client, { datacenter, datastore }, url, {
      username: options.username,
      password: options.password,
      verifyTls: this.#o.verifyTls,
      connectTimeoutMs: this.#o.connectTimeoutMs,
      idleTimeoutMs: this.#o.idleTimeoutMs,
      datastoreIdleMs: this.#o.idleTimeoutMs ?? 60_000,
      taskTimeoutMs: this.#o.taskTimeoutMs ?? 60_000,
      signal,
      logger: this.#logger,
      onTransfer: (t) => {
        this.#state.transfer = t;
      },
    });
  }

  async eject(slot: MediaSlot): Promise<void> {
    this.#check(slot);
    if (this.#busy) throw new MediaBusyError("the cd slot is busy with an insert or eject; try again when it finished");
    this.#busy = true;
    const taskTimeoutMs = this.#o.taskTimeoutMs ?? 60_000;
    try {
      await this.#link.withVm("eject media", async (client, vm) => {
        const cfg = await readCdromConfig(client, vm);
        const cd = ours(cfg);
        if (!cd || cd.backing.kind !== "iso") return this.#adopt(cfg);
        const fileName = cd.backing.fileName;
        const off = { connected: false, startConnected: false, allowGuestControl: true };
        const prev = previousOf(cfg);
        // A host drive comes back connected as it was; nothing else is connected by an eject.
        const back = prev ? { ...off, connected: prev.backing.kind === "host" && prev.connected, startConnected: prev.backing.kind === "host" && prev.startConnected } : off;
        try {
          await reconfigDevices(client, vm, [editCdrom(cd, prev?.backing ?? EMPTY, back)], { [IMAGE_KEY]: "", [PREVIOUS_KEY]: "" }, taskTimeoutMs);
        } catch (err) {
          if (!isInvalidPowerState(err)) throw err;
          // vSphere 8.0U2 on a powered-on VM: keep the ISO backing type, just disconnect it.
          this.#logger.info("vSphere refused to change the CD-ROM backing while powered on; disconnecting the image instead");
          await reconfigDevices(client, vm, [editCdrom(cd, cd.backing, off)], { [IMAGE_KEY]: "" }, taskTimeoutMs);
        }
        this.#adopt(await readCdromConfig(client, vm));
        this.#logger.info("image ejected", { file: fileName });
        const p = parseDatastorePath(fileName);
        if (!p || !p.path.startsWith(`${MEDIA_DIR}/`)) return;
        const datacenter = await datacenterOf(client, vm);
        await libraryFor(this.#o.hub).release(client, { datacenter, datastore: p.datastore, path: p.path }, { taskTimeoutMs, logger: this.#logger });
      });
      // The last transfer described media that is gone now: status and Redfish stop showing it
      // (a failed insert stays visible until the next insert or this eject).
      const { transfer: _gone, ...rest } = this.#state;
      this.#state = rest;
    } finally {
      this.#busy = false;
    }
  }

  /** Abort a running transfer. */
  async close(): Promise<void> {
    this.#abort.abort(new Error("virtual media closed"));
  }
}

/** What createVsphereMedia takes besides the backend. */
export type VsphereMediaSettings = Omit<VsphereMediaOptions, "link" | "hub">;

/**
 * The virtual media of the VM behind `backend` (the same VM lookup, deadlines and shared
 * vCenter session). close() aborts a running transfer; call it before backend.close().
 */
export function createVsphereMedia(backend: VsphereBackend, settings: VsphereMediaSettings): VsphereMedia {
  return new VsphereMedia({ ...settings, link: backend.vmLink, hub: backend.hub });
}
