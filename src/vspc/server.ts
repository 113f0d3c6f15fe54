// The virtual serial port concentrator ESXi hosts dial out to (a VM's serial port with a
// proxyURI). Each connection is a telnet session with VMware's option 232; once the VM has said
// who it is, attach() decides whether it is ours and gets a BytePort for it.
import { randomBytes } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { BindError } from "../errors.ts";
import { SECRET_BYTES, VspcConnection } from "./connection.ts";
import { Handshake } from "./handshake.ts";
import { VmLink } from "./link.ts";
import { resolveLimits, type VmIdentity, type VspcServer, type VspcServerOptions, type VspcStats } from "./types.ts";

export type { VmIdentity, VspcLinkStatus, VspcServer, VspcServerOptions, VspcStats } from "./types.ts";

const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

/** The same serial port seen from two hosts: same service URI, and VC UUID (or, lacking one, name). */
function samePort(a: VmIdentity, b: VmIdentity): boolean {
  if (a.serviceUri !== b.serviceUri) return false;
  if (a.vcUuid !== undefined && b.vcUuid !== undefined) return a.vcUuid === b.vcUuid;
  return a.name !== undefined && a.name === b.name;
}

export function startVspcServer(opts: VspcServerOptions): Promise<VspcServer> {
  const limits = resolveLimits(opts.limits);
  const log = opts.logger;
  const stats: VspcStats = {
    connections: 0,
    connectionsTotal: 0,
    links: 0,
    bytesFromVm: 0,
    bytesToVm: 0,
    vmotionsCompleted: 0,
    vmotionsAborted: 0,
    refused: 0,
    dropped: 0,
    overflowBytes: 0,
  };
  const sockets = new Set<net.Socket>();
  const conns = new Set<VspcConnection>();
  const links = new Set<VmLink>();
  const inVmotion = new Set<VmLink>();
  /** Handshakes that held back because their VM was mid-vMotion; retried when one ends. */
  let heldBack: (() => void)[] = [];
  const secret = opts.secret ?? (() => new Uint8Array(randomBytes(SECRET_BYTES)));

  const linkContext = {
    logger: log,
    limits,
    stats,
    secret,
    vmotionStarted: (l: VmLink) => inVmotion.add(l),
    vmotionEnded: (l: VmLink) => {
      inVmotion.delete(l);
      const retries = heldBack;
      heldBack = [];
      for (const r of retries) r();
    },
    linkClosed: (l: VmLink) => {
      if (links.delete(l)) stats.links = links.size;
    },
  };

  const hooks = {
    timeoutMs: limits.handshakeTimeoutMs,
    bufferBytes: limits.bufferBytes,
    identified(conn: VspcConnection, identity: VmIdentity, early: Uint8Array[]) {
      const link = new VmLink(linkContext, conn, identity);
      let ok = false;
      try {
        ok = opts.attach(identity, link, () => link.peer);
      } catch (err) {
        log.error("attach() threw; VM refused", { peer: conn.peer, ...identity, error: err });
      }
      if (!ok) {
        stats.refused++;
        // attach()'s owner logs why (it knows); this line only helps when debugging the protocol.
        log.debug("VM refused: not one of ours", { peer: conn.peer, ...identity });
        link.discard("VM refused");
        return;
      }
      links.add(link);
      stats.links = links.size;
      log.info("VM attached", { peer: conn.peer, ...identity });
      link.early(early);
    },
    peer(conn: VspcConnection, cookie: { seq: Uint8Array; secret: Uint8Array }, early: Uint8Array[]) {
      for (const link of inVmotion) {
        if (link.matchesPeer(cookie.seq, cookie.secret)) {
          link.acceptPeer(conn, early);
          return;
        }
      }
      stats.refused++;
      // The secret is never logged: only the host's sequence. The protocol has no refusal
      // message (VMware's vSPC stays silent); closing the connection is the clearest answer.
      log.warn("vMotion peer refused: no pending vMotion with this sequence and secret", { peer: conn.peer, seq: hex(cookie.seq) });
      conn.close("vMotion peer refused");
    },
    expectingPeer(identity: VmIdentity, retry: () => void): boolean {
      for (const link of inVmotion) {
        if (samePort(link.identity, identity)) {
          heldBack.push(retry);
          return true;
        }
      }
      return false;
    },
    timedOut(conn: VspcConnection, fields: Record<string, unknown>) {
      stats.dropped++;
      log.warn("connection dropped: handshake not finished in time", { peer: conn.peer, timeoutMs: limits.handshakeTimeoutMs, ...fields });
      conn.close("handshake timeout");
    },
  };

  const onSocket = (socket: net.Socket) => {
    stats.connectionsTotal++;
    if (sockets.size >= limits.maxConnections) {
      stats.refused++;
      log.warn("connection refused: too many connections", { peer: `${socket.remoteAddress}:${socket.remotePort}`, maxConnections: limits.maxConnections });
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    sockets.add(socket);
    stats.connections = sockets.size;
    const conn = new VspcConnection({
      socket,
      logger: log,
      maxSubnegotiationBytes: limits.maxSubnegotiationBytes,
      bufferBytes: limits.bufferBytes,
      acceptsServiceUri: opts.acceptsServiceUri,
      onFault(c, reason, fields) {
        stats.dropped++;
        log.warn(`connection dropped: ${reason}`, { peer: c.peer, reason, ...fields });
      },
      onRefused(c, reason, fields) {
        stats.refused++;
        log.warn(`connection refused: ${reason}`, { peer: c.peer, ...fields });
      },
      onOverflow(n) {
        stats.overflowBytes += n;
      },
    });
    conns.add(conn);
    socket.on("close", () => {
      sockets.delete(socket);
      conns.delete(conn);
      stats.connections = sockets.size;
    });
    new Handshake(conn, hooks);
  };

  const server = opts.tls ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: limits.handshakeTimeoutMs }, onSocket) : net.createServer(onSocket);
  if (opts.tls) {
    server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
      stats.dropped++;
      log.warn("connection dropped: TLS handshake failed", { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err });
    });
  }

  return new Promise<VspcServer>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new BindError(`vSPC cannot listen on ${opts.address}:${opts.port}: ${err.message}`, err.code, { cause: err }));
    };
    server.once("error", onError);
    server.listen(opts.port, opts.address, () => {
      server.off("error", onError);
      server.on("error", (err: Error) => log.error("vSPC listener error", { error: err }));
      const bound = server.address() as net.AddressInfo;
      log.info("vSPC listening", { address: bound.address, port: bound.port, tls: opts.tls !== undefined });
      resolve({
        address: () => ({ address: bound.address, port: bound.port }),
        stats: () => ({ ...stats }),
        links: () => [...links].map((l) => l.status()),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const l of [...links]) l.close("vSPC server closing");
            for (const c of [...conns]) c.close("vSPC server closing", true);
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
