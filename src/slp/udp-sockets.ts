// The responder's UDP sockets: one bound to each served interface address (unicast requests
// arrive there and every reply leaves from there), and one bound to the SLP group that joins
// it on those addresses only. The responder says which addresses it wants; this opens and
// closes sockets and memberships to match.
import type { Logger } from "../log/logger.ts";
import { SLP_MULTICAST_GROUP } from "./net.ts";

export type UdpSocket = Bun.udp.Socket<"buffer">;

/** `bound` is the address of the socket it arrived on (the group for multicast). */
export type DatagramListener = (data: Buffer, port: number, address: string, bound: string, viaGroup: boolean) => void;

export class UdpSockets {
  private readonly unicast = new Map<string, UdpSocket>();
  private group: UdpSocket | undefined;
  private readonly joined = new Set<string>();

  constructor(
    private readonly port: number,
    /** Join the multicast group at all. */
    private readonly multicast: boolean,
    private readonly logger: Logger,
    private readonly onDatagram: DatagramListener,
  ) {}

  /** Addresses with a bound unicast socket. */
  addressKeys(): Iterable<string> {
    return this.unicast.keys();
  }

  /** The addresses the group was joined on. */
  get memberships(): string[] {
    return [...this.joined];
  }

  /** The socket replies to requests that arrived for `local` leave from. */
  socketFor(local: string): UdpSocket | undefined {
    return this.unicast.get(local);
  }

  /** Closes sockets and leaves the group on addresses no longer in `want`. */
  closeUnwanted(want: ReadonlySet<string>): void {
    for (const [a, s] of this.unicast) {
      if (!want.has(a)) {
        s.close();
        this.unicast.delete(a);
      }
    }
    for (const a of [...this.joined]) {
      if (!want.has(a)) {
        try {
          this.group?.dropMembership(SLP_MULTICAST_GROUP, a);
        } catch {
          // The interface may be gone already.
        }
        this.joined.delete(a);
      }
    }
    if (want.size === 0 && this.group) {
      this.group.close();
      this.group = undefined;
    }
  }

  /** Binds a socket on, and joins the group on, each address in `want` that lacks one. */
  async openMissing(want: ReadonlySet<string>): Promise<void> {
    for (const a of want) {
      if (this.unicast.has(a)) continue;
      const s = await this.bind(a, false);
      s.setTTL(64);
      this.unicast.set(a, s);
    }
    if (!this.multicast || want.size === 0) return;
    if (!this.group) {
      this.group = await this.bind(SLP_MULTICAST_GROUP, true);
      // We never send to the group; loopback off and TTL 1 keep it that way if anything tried.
      this.group.setMulticastLoopback(false);
      this.group.setMulticastTTL(1);
    }
    for (const a of want) {
      if (this.joined.has(a)) continue;
      try {
        this.group.addMembership(SLP_MULTICAST_GROUP, a);
        this.joined.add(a);
      } catch (err) {
        this.logger.warn("cannot join the SLP multicast group; unicast only on this address", { address: a, err });
      }
    }
  }

  private async bind(hostname: string, viaGroup: boolean): Promise<UdpSocket> {
    try {
      return await Bun.udpSocket({
        hostname,
        port: this.port,
        binaryType: "buffer",
        socket: {
          data: (_s, data, port, address) => this.onDatagram(data, port, address, hostname, viaGroup),
          error: (_s, err) => this.logger.warn("SLP UDP socket error", { address: hostname, err }),
        },
      });
    } catch (err) {
      throw new Error(`SLP: cannot bind UDP ${hostname}:${this.port}: ${(err as Error).message}`, { cause: err });
    }
  }
}
