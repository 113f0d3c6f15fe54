// Minimal UDP plumbing for an IpmiSessionEngine (node:dgram). One socket per binding.
import { createSocket, type Socket } from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";
import type { IpmiSessionEngine } from "./engine.ts";
import type { ReturnPath } from "./types.ts";

export interface IpmiUdpBinding {
  /** The bound address and port (useful with port 0). */
  address(): { address: string; port: number; family: "IPv4" | "IPv6" };
  close(): Promise<void>;
}

/** "::ffff:10.0.0.1" → "10.0.0.1", so one client has one name whichever socket it used. */
function unmapAddress(a: string): string {
  return a.startsWith("::ffff:") && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function bindSocket(type: "udp4" | "udp6", address: string, port: number, ipv6Only: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type, ipv6Only, reuseAddr: false });
    const onError = (err: Error) => {
      sock.close();
      reject(err);
    };
    sock.once("error", onError);
    sock.bind({ address, port, exclusive: true }, () => {
      sock.off("error", onError);
      resolve(sock);
    });
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
  let sock: Socket;
  if (isIPv4(address)) {
    sock = await bindSocket("udp4", address, port, false);
  } else if (address === "::") {
    try {
      sock = await bindSocket("udp6", "::", port, false);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL" && code !== "EPROTONOSUPPORT" && code !== "EINVAL") throw err;
      sock = await bindSocket("udp4", "0.0.0.0", port, false);
    }
  } else if (isIPv6(address)) {
    sock = await bindSocket("udp6", address, port, true);
  } else {
    throw new RangeError(`IPMI listen address "${address}" is not an IPv4 or IPv6 literal`);
  }

  let closed = false;
  const localPort = sock.address().port;
  sock.on("message", (msg, rinfo) => {
    const source = { address: unmapAddress(rinfo.address), port: rinfo.port };
    // The way back for what the engine sends unasked (SOL output), by the socket and the
    // address form (IPv4-mapped or not) the datagram came with.
    const path: ReturnPath = {
      localPort,
      send(datagram) {
        if (!closed) sock.send(datagram, rinfo.port, rinfo.address);
      },
    };
    void engine.handleDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), source, path).then((reply) => {
      if (reply && !closed) sock.send(reply, rinfo.port, rinfo.address);
    });
  });
  // A send error (ICMP unreachable surfacing as ECONNREFUSED …) must not kill the socket.
  sock.on("error", () => {});

  return {
    address() {
      const a = sock.address();
      return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => sock.close(() => resolve()));
    },
  };
}
