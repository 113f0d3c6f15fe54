// Certificate thumbprints as govc writes them: colon-separated upper-case hex of the
// SHA-256 or SHA-1 digest of the DER certificate. A pin may be either; we tell them
// apart by length.
import { createHash, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import * as tls from "node:tls";
import { normalizeThumbprint } from "../config/thumbprint.ts";
import { ConnectError, DeadlineError } from "../errors.ts";

export interface Thumbprints {
  sha256: string;
  sha1: string;
}

export interface ServerCertificate extends Thumbprints {
  pem: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Whether the chain verified against the system CA store (informational). */
  authorized: boolean;
  authorizationError?: string;
}

function colonHex(buf: Buffer): string {
  return buf.toString("hex").toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

/** SHA-256 and SHA-1 thumbprints of a DER-encoded certificate. */
export function certificateThumbprints(der: Uint8Array): Thumbprints {
  return {
    sha256: colonHex(createHash("sha256").update(der).digest()),
    sha1: colonHex(createHash("sha1").update(der).digest()),
  };
}

/** Does the DER certificate match a pin (SHA-256 or SHA-1, any case, colons optional)? */
export function thumbprintMatches(pin: string, der: Uint8Array): boolean {
  const want = normalizeThumbprint(pin);
  if (!want) return false;
  const got = certificateThumbprints(der);
  return want.length === got.sha256.length ? want === got.sha256 : want === got.sha1;
}

/**
 * Connect to `url` (https, default port 443), read the server certificate without trusting
 * it, and return its thumbprints. This is the explicit trust-on-first-use step.
 */
export function fetchServerCertificate(url: string, timeoutMs = 10_000): Promise<ServerCertificate> {
  const u = new URL(url);
  if (u.protocol !== "https:") return Promise.reject(new ConnectError(`${url}: not an https URL`));
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port ? Number(u.port) : 443;
  return new Promise((resolve, reject) => {
    const servername = isIP(host) ? undefined : host;
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DeadlineError(`TLS handshake with ${u.host}`, timeoutMs));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate(false);
      socket.end();
      if (!peer?.raw) {
        reject(new ConnectError(`${u.host}: server sent no certificate`));
        return;
      }
      const x509 = new X509Certificate(peer.raw);
      resolve({
        ...certificateThumbprints(peer.raw),
        pem: x509.toString(),
        subject: x509.subject,
        issuer: x509.issuer,
        validFrom: x509.validFrom,
        validTo: x509.validTo,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      });
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new ConnectError(`${u.host}: ${err.message}`, { cause: err }));
    });
  });
}
