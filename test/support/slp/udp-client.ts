// A raw UDP client for tests: send bytes, collect what comes back within a bounded wait.
export interface Received {
  bytes: Buffer;
  address: string;
  port: number;
}

export class UdpProbe {
  private inbox: Received[] = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly sock: Bun.udp.Socket<"buffer">) {}

  static async open(hostname = "127.0.0.1"): Promise<UdpProbe> {
    let probe: UdpProbe | undefined;
    const sock = await Bun.udpSocket({
      hostname,
      port: 0,
      socket: {
        data(_s, data, port, address) {
          probe?.push({ bytes: Buffer.from(data), address, port });
        },
        // A request to a port nobody serves comes back as ICMP unreachable: that is "no reply".
        error() {},
      },
    });
    probe = new UdpProbe(sock);
    return probe;
  }

  get port(): number {
    return this.sock.port;
  }

  private push(r: Received): void {
    this.inbox.push(r);
    for (const w of this.waiters.splice(0)) w();
  }

  send(bytes: Uint8Array, port: number, address = "127.0.0.1"): void {
    this.sock.send(bytes, port, address);
  }

  /** Waits up to `ms` for the next datagram; undefined if none came. */
  async next(ms = 500): Promise<Received | undefined> {
    const have = this.inbox.shift();
    if (have) return have;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.inbox.shift();
  }

  /** Sends and returns the first reply within `ms`, or undefined. */
  async request(bytes: Uint8Array, port: number, address = "127.0.0.1", ms = 500): Promise<Received | undefined> {
    this.inbox = [];
    this.send(bytes, port, address);
    return this.next(ms);
  }

  /** Everything that arrives within `ms`. */
  async drain(ms: number): Promise<Received[]> {
    await Bun.sleep(ms);
    return this.inbox.splice(0);
  }

  close(): void {
    this.sock.close();
  }
}

/** A free UDP+TCP port on 127.0.0.1 (best effort: bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const port = s.port;
    s.close();
    try {
      const l = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
      l.stop(true);
      return port;
    } catch {
      // taken for TCP; try another
    }
  }
  throw new Error("no free port found");
}
