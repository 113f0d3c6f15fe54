// Virtual media of one machine: an image from a URL shown to the VM as a CD (or a removable
// disk). This is the contract between the front ends (Redfish VirtualMedia, `esxkit vm media`)
// and the one implementation that does the vSphere side; neither front end talks to vCenter.

/** The devices a machine may offer; a backend lists only those it can really back. */
export type MediaSlot = "cd" | "removable";

/** A transfer of an inserted image into the VM's datastore, as status and Redfish show it. */
export interface MediaTransfer {
  state: "downloading" | "done" | "failed";
  /** Bytes written to the datastore so far. */
  bytes: number;
  /** Content-Length of the source, when it sent one. */
  total?: number;
  startedAt: number;
  finishedAt?: number;
  /** Why it failed: never contains a credential. */
  error?: string;
  /** Bytes not transferred because the same image was already on that datastore (shared copy). */
  reused?: boolean;
}

export interface MediaState {
  slot: MediaSlot;
  /** An image is (being) inserted by esxkit into this slot. */
  inserted: boolean;
  /** The URL as the client gave it, with any userinfo removed. */
  image?: string;
  writeProtected: boolean;
  /** The VM's device is connected to the image (the transfer finished and the reconfigure ran). */
  connected: boolean;
  transfer?: MediaTransfer;
}

export interface InsertOptions {
  /** HTTP basic credentials for the image URL (Redfish UserName/Password). Never logged. */
  username?: string;
  password?: string;
  /** Default true. */
  writeProtected?: boolean;
  signal?: AbortSignal;
}

/**
 * One machine's virtual media. insert() resolves once the image is on the datastore and the
 * VM's device points at it; it rejects with a coded error (errors.ts) that callers branch on:
 * the image URL failing is distinguishable from vSphere failing. Progress is visible through
 * state() while insert() is pending.
 */
export interface VirtualMedia {
  slots(): MediaSlot[];
  state(slot: MediaSlot): MediaState;
  insert(slot: MediaSlot, url: string, options?: InsertOptions): Promise<void>;
  /** Disconnects the device; deletes the uploaded file once no machine uses it. Idempotent. */
  eject(slot: MediaSlot): Promise<void>;
}
