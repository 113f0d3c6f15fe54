// The vSPC server's public shapes. It knows VMs only by what their host tells it over telnet.
import type { Logger } from "../log/logger.ts";
import type { BytePort } from "../net/byte-port.ts";

/** Who a VM serial-port connection says it is (DO-PROXY and the VM-* answers). */
export interface VmIdentity {
  serviceUri: string;
  direction: "server" | "client";
  vcUuid?: string;
  name?: string;
  biosUuid?: string;
  locationUuid?: string;
}

export interface VspcLimits {
  /** Open TCP connections at once (VMs, vMotion peers and half-done handshakes); default 1024. */
  maxConnections?: number;
  /** From accept until the VM is attached (or recognised as a vMotion peer); default 10000. */
  handshakeTimeoutMs?: number;
  /** Longest telnet subnegotiation accepted; default 4096. */
  maxSubnegotiationBytes?: number;
  /** How long a vMotion may run from GOAHEAD to COMPLETE before it is treated as aborted; default 5000. */
  vmotionLimitMs?: number;
  /** Bytes held per link: toward the VM during a vMotion or a slow socket, and from the VM before a receiver is set; default 1 MiB. */
  bufferBytes?: number;
}

export interface VspcServerOptions {
  address: string;
  /** 0 = ephemeral. */
  port: number;
  /** PEM text; VMware's telnets:// proxy URI. */
  tls?: { cert: string; key: string };
  logger: Logger;
  /**
   * Decides whether this VM is ours. Return false to refuse (logged, connection dropped).
   * Called once per VM link, after identity is known; `peer()` is the "address:port" of the
   * host carrying the link now (it changes with a vMotion).
   */
  attach(identity: VmIdentity, port: BytePort, peer: () => string): boolean;
  /** Optional service-URI filter used for DO-PROXY (refuse → WONT-PROXY). */
  acceptsServiceUri?(uri: string): boolean;
  limits?: VspcLimits;
  /** The vMotion secret generator; tests pin it to force bytes such as 0xFF. Default: 8 random bytes. */
  secret?: () => Uint8Array;
}

export interface VspcStats {
  /** TCP connections open now. */
  connections: number;
  /** TCP connections accepted since start. */
  connectionsTotal: number;
  /** VM links attached now. */
  links: number;
  bytesFromVm: number;
  bytesToVm: number;
  vmotionsCompleted: number;
  vmotionsAborted: number;
  /** Connections turned away on purpose: flood cap, WONT-PROXY, attach() said no, a wrong vMotion peer. */
  refused: number;
  /** Connections dropped for bad behaviour: telnet garbage, oversized subnegotiation, handshake timeout. */
  dropped: number;
  /** Bytes toward a VM thrown away because a link's buffer was full. */
  overflowBytes: number;
}

export interface VspcLinkStatus {
  identity: VmIdentity;
  /** host:port of the ESXi host connection carrying the link now. */
  peer: string;
  /** When the link was attached (ISO 8601). */
  since: string;
  bytesFromVm: number;
  bytesToVm: number;
  vmotions: number;
  /** A vMotion is between GOAHEAD and COMPLETE/ABORT. */
  inVmotion: boolean;
}

export interface VspcServer {
  address(): { address: string; port: number };
  close(): Promise<void>;
  stats(): VspcStats;
  links(): VspcLinkStatus[];
}

export interface ResolvedLimits {
  maxConnections: number;
  handshakeTimeoutMs: number;
  maxSubnegotiationBytes: number;
  vmotionLimitMs: number;
  bufferBytes: number;
}

export function resolveLimits(l: VspcLimits = {}): ResolvedLimits {
  return {
    maxConnections: l.maxConnections ?? 1024,
    handshakeTimeoutMs: l.handshakeTimeoutMs ?? 10_000,
    maxSubnegotiationBytes: l.maxSubnegotiationBytes ?? 4096,
    vmotionLimitMs: l.vmotionLimitMs ?? 5000,
    bufferBytes: l.bufferBytes ?? 1 << 20,
  };
}
