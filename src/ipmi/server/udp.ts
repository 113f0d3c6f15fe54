// UDP plumbing for an IpmiSessionEngine: one Bun UDP socket per binding. Bun.udpSocket, not
// node:dgram: each idle-to-busy round trip through node:dgram's event emitter cost about twice
// as much (a SOL keystroke wakes the daemon three times), and its bind is just as exclusive
// (no SO_REUSEADDR/SO_REUSEPORT: a second bind of the port fails with EADDRINUSE).
import { isIPv4, isIPv6 } from "node:net";
import type { IpmiSessionEngine } from "./engine.ts";
import type { ReturnPath } from "./types.ts";

export interface IpmiUdpBinding {
  /** The bound address and port (useful with port 0). */
  address(): { address: string; port: number; family: "IPv4" | "IPv6" };
  close(): Promise<void>;
}

type UdpSocket = Bun.udp.Socket<"uint8array">;

/** "::ffff:10.0.0.1" → "10.0.0.1", so one client has one name whichever socket it used. */
function unmapAddress(a: string): string {
  return a.startsWith("::ffff:") && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/**
 * Bun's send throws what the kernel queued from an earlier ICMP error (ECONNREFUSED from a
 * client that went away …): one lost reply, never a crashed daemon.
 */
function sendQuietly(sock: UdpSocket, datagram: Uint8Array, port: number, address: string): void {
  try {
    sock.send(datagram, port, address);
  } catch {
    // the client is gone; a retry from it gets a fresh reply
  }
}

type Receive = (sock: UdpSocket, data: Uint8Array, port: number, address: string) => void;

function bindSocket(hostname: string, port: number, receive: Receive): Promise<UdpSocket> {
  return Bun.udpSocket({
    hostname,
    port,
    binaryType: "uint8array",
    socket: {
      data: receive,
      // An asynchronous socket error (ICMP unreachable …) must not kill the socket.
      error: () => {},
    },
  });
}

/**
 * Bind `address:port` and feed every datagram to the engine.
 * - an IPv4 literal: IPv4 only; an IPv6 literal other than "::": IPv6 only;
 * - "::": dual-stack (IPv6 and IPv4-mapped), falling back to 0.0.0.0 on hosts without IPv6.
 * Rejects with the bind error (EADDRINUSE, EACCES for port 623 without
 * CAP_NET_BIND_SERVICE, EADDRNOTAVAIL for an address that is not local …).
 */
export async function bindIpmiUdp(address: string, port: number, engine: IpmiSessionEngine): Promise<IpmiUdpBinding> {
  let closed = false;
  let localPort = port;
  const receive: Receive = (sock, data, rport, raddr) => {
    const source = { address: unmapAddress(raddr), port: rport };
    // The way back for what the engine sends unasked (SOL output), by the socket and the
    // address form (IPv4-mapped or not) the datagram came with.
    const path: ReturnPath = {
      localPort,
      send(datagram) {
        if (!closed) sendQuietly(sock, datagram, rport, raddr);
      },
    };
    // A copy: the engine reads the datagram across awaits, and the socket's receive buffer
    // is not promised to outlive this callback.
    void engine.handleDatagram(data.slice(), source, path).then((reply) => {
      if (reply && !closed) sendQuietly(sock, reply, rport, raddr);
    });
  };
  let sock: UdpSocket;
  if (isIPv4(address)) {
    sock = await bindSocket(address, port, receive);
  } else if (address === "::") {
    try {
      sock = await bindSocket("::", port, receive);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL" && code !== "EPROTONOSUPPORT" && code !== "EINVAL") throw err;
      sock = await bindSocket("0.0.0.0", port, receive);
    }
  } else if (isIPv6(address)) {
    sock = await bindSocket(address, port, receive);
  } else {
    throw new RangeError(`IPMI listen address "${address}" is not an IPv4 or IPv6 literal`);
  }
  localPort = sock.port;

  return {
    address() {
      const a = sock.address;
      return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      sock.close();
      return Promise.resolve();
    },
  };
}
