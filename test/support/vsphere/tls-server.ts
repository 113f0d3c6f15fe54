// Loopback peers for transport tests: an HTTPS server with certificates made by openssl at
// test time, and misbehaving TCP listeners (silent, half an answer).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateThumbprints } from "../../../src/vsphere/thumbprint.ts";

export interface TestPki {
  /** CA that signed `certPem`. */
  caPem: string;
  /** Leaf for 127.0.0.1 / localhost, signed by the CA. */
  certPem: string;
  keyPem: string;
  /** An unrelated CA (for "wrong CA file"). */
  otherCaPem: string;
  sha256: string;
  sha1: string;
}

function run(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
}

function pemToDer(pem: string): Buffer {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return Buffer.from(b64, "base64");
}

/** A CA, a leaf for 127.0.0.1 signed by it, and an unrelated CA; made with `openssl req`. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-pki-"));
  try {
    const subj = (cn: string) => ["-subj", `/CN=${cn}`];
    const ca = (name: string) =>
      run(
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2",
          ...subj(`esxkit test ${name}`), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign,cRLSign"],
        dir,
      ); // prettier-ignore
    ca("ca");
    ca("other");
    run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", ...subj("127.0.0.1")], dir);
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    run(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
      "-days", "2", "-extfile", "ext.cnf"], dir); // prettier-ignore
    const certPem = readFileSync(join(dir, "leaf.pem"), "utf8");
    return {
      caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
      certPem,
      keyPem: readFileSync(join(dir, "leaf.key"), "utf8"),
      otherCaPem: readFileSync(join(dir, "other.pem"), "utf8"),
      ...certificateThumbprints(pemToDer(certPem)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestServer {
  url: string;
  port: number;
  /** Accepted TCP connections so far. */
  connections: () => number;
  stop(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1 answering every request with `body` (default "ok"). */
export function startHttpsServer(pki: TestPki, body = "ok"): TestServer {
  let count = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pki.certPem, key: pki.keyPem },
    fetch() {
      return new Response(body, { headers: { "content-type": "text/plain" } });
    },
  });
  return {
    url: `https://127.0.0.1:${server.port}/sdk`,
    port: server.port ?? 0,
    connections: () => count,
    stop: async () => {
      await server.stop(true);
    },
  };
}

/** A plain TCP listener; `onSocket` decides what to do with each connection. */
export async function startTcpServer(onSocket: (s: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((s) => {
    count++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/sdk`,
    port,
    connections: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts connections and never says a word. */
export function startSilentServer(): Promise<TestServer> {
  return startTcpServer(() => undefined);
}

/** Sends status line, headers and part of the body, then closes (`close`) or goes silent (`hang`). */
export function startHalfResponder(mode: "close" | "hang"): Promise<TestServer> {
  return startTcpServer((s) => {
    s.once("data", () => {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<soapenv:Envelope xmlns:soapenv=");
      if (mode === "close") setTimeout(() => s.destroy(), 20);
    });
  });
}

/** Answers each connection's first request with `body` after `delayMs`, then closes. */
export function startSlowResponder(delayMs: number, body: string): Promise<TestServer> {
  return startTcpServer((s) => {
    s.once("data", () => {
      const t = setTimeout(() => {
        s.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }, delayMs);
      s.once("close", () => clearTimeout(t));
    });
  });
}

/** A port that was free a moment ago (nothing listens on it). */
export async function closedPort(): Promise<number> {
  const srv = await startTcpServer(() => undefined);
  await srv.stop();
  return srv.port;
}
