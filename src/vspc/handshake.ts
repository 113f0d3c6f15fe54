// A connection from accept until it is known: either a VM to attach (DO-PROXY and the identity
// it answers to GET-VM-*) or the target host's half of a vMotion (VMOTION-PEER). The proxy asks
// only for what the VM listed in KNOWN-SUBOPTIONS-1; without that list, for VC UUID and name.
// A VM that volunteers its identity is not asked again.
import type { VmwareMessage } from "../telnet/vmware.ts";
import { VmwareCode } from "../telnet/vmware-codes.ts";
import type { ConnectionOwner, VspcConnection } from "./connection.ts";
import type { VmIdentity } from "./types.ts";

type IdField = "vcUuid" | "name" | "biosUuid" | "locationUuid";

const QUERIES: { field: IdField; answer: number; get: number; kind: "get-vm-vc-uuid" | "get-vm-name" | "get-vm-bios-uuid" | "get-vm-location-uuid" }[] = [
  { field: "vcUuid", answer: VmwareCode.VM_VC_UUID, get: VmwareCode.GET_VM_VC_UUID, kind: "get-vm-vc-uuid" },
  { field: "name", answer: VmwareCode.VM_NAME, get: VmwareCode.GET_VM_NAME, kind: "get-vm-name" },
  { field: "biosUuid", answer: VmwareCode.VM_BIOS_UUID, get: VmwareCode.GET_VM_BIOS_UUID, kind: "get-vm-bios-uuid" },
  { field: "locationUuid", answer: VmwareCode.VM_LOCATION_UUID, get: VmwareCode.GET_VM_LOCATION_UUID, kind: "get-vm-location-uuid" },
];

const ANSWER_FIELD: Partial<Record<VmwareMessage["kind"], IdField>> = {
  "vm-vc-uuid": "vcUuid",
  "vm-name": "name",
  "vm-bios-uuid": "biosUuid",
  "vm-location-uuid": "locationUuid",
};

export interface HandshakeHooks {
  timeoutMs: number;
  /** Bytes from the VM kept until it is attached. */
  bufferBytes: number;
  /** The identity is complete: attach it (the server decides). */
  identified(conn: VspcConnection, identity: VmIdentity, early: Uint8Array[]): void;
  /** VMOTION-PEER arrived: the server hands the connection to the link it names, or refuses it. */
  peer(conn: VspcConnection, cookie: { seq: Uint8Array; secret: Uint8Array }, early: Uint8Array[]): void;
  /**
   * True while a link with this identity is mid-vMotion: the connection is more likely its peer.
   * `retry` is called when that vMotion ends, to attach after all if no VMOTION-PEER came.
   */
  expectingPeer(identity: VmIdentity, retry: () => void): boolean;
  timedOut(conn: VspcConnection, fields: Record<string, unknown>): void;
}

export class Handshake implements ConnectionOwner {
  private proxy: { direction: "server" | "client"; serviceUri: string } | undefined;
  private known: number[] | undefined;
  private readonly ids: Partial<Record<IdField, string>> = {};
  private readonly asked = new Set<IdField>();
  private readonly unanswerable = new Set<IdField>();
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private done = false;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly conn: VspcConnection,
    private readonly hooks: HandshakeHooks,
  ) {
    conn.owner = this;
    this.timer = setTimeout(() => this.timeout(), hooks.timeoutMs);
  }

  onData(_conn: VspcConnection, bytes: Uint8Array): void {
    if (this.earlyBytes + bytes.length > this.hooks.bufferBytes) return;
    this.early.push(bytes);
    this.earlyBytes += bytes.length;
  }

  onClose(): void {
    this.finish();
  }

  onMessage(conn: VspcConnection, msg: VmwareMessage): void {
    if (this.done) return;
    switch (msg.kind) {
      case "known-suboptions-1":
        this.known = msg.codes;
        if (this.proxy) this.ask();
        break;
      case "do-proxy":
        this.proxy = { direction: msg.direction, serviceUri: msg.serviceUri };
        this.ask();
        break;
      // The VM's reply is -1; -2 is the proxy's, accepted too from a host that mixes them up.
      case "unknown-suboption-rcvd-1":
      case "unknown-suboption-rcvd-2": {
        const q = QUERIES.find((x) => x.get === msg.code);
        if (q) this.unanswerable.add(q.field);
        break;
      }
      case "vmotion-peer":
        this.finish();
        this.hooks.peer(conn, msg, this.early);
        return;
      case "vmotion-begin":
        conn.sendMessage({ kind: "vmotion-notnow", seq: msg.seq });
        break;
      default: {
        const field = ANSWER_FIELD[msg.kind];
        if (field && "value" in msg) this.ids[field] = msg.value;
        else conn.log.debug("sub-option ignored before attach", { peer: conn.peer, kind: msg.kind });
      }
    }
    this.maybeComplete();
  }

  private ask(): void {
    for (const q of QUERIES) {
      if (this.asked.has(q.field) || this.ids[q.field] !== undefined) continue;
      const listed = this.known ? this.known.includes(q.answer) || this.known.includes(q.get) : q.field === "vcUuid" || q.field === "name";
      if (!listed) continue;
      this.asked.add(q.field);
      this.conn.sendMessage({ kind: q.kind });
    }
  }

  private identity(): VmIdentity | undefined {
    if (!this.proxy) return undefined;
    for (const f of this.asked) if (this.ids[f] === undefined && !this.unanswerable.has(f)) return undefined;
    const id: VmIdentity = { serviceUri: this.proxy.serviceUri, direction: this.proxy.direction };
    for (const q of QUERIES) {
      const v = this.ids[q.field];
      if (v !== undefined) id[q.field] = v;
    }
    return id;
  }

  private maybeComplete(): void {
    const id = this.identity();
    if (!id || this.done) return;
    // The target host of a vMotion may identify itself before it sends VMOTION-PEER; wait for it.
    if (this.hooks.expectingPeer(id, () => this.maybeComplete())) return;
    this.finish();
    this.hooks.identified(this.conn, id, this.early);
  }

  private timeout(): void {
    if (this.done) return;
    this.finish();
    this.hooks.timedOut(this.conn, {
      sawWillVmware: this.conn.vmwareEnabled,
      doProxy: this.proxy !== undefined,
      waitingFor: [...this.asked].filter((f) => this.ids[f] === undefined && !this.unanswerable.has(f)),
    });
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
  }
}
