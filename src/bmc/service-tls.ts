// The certificate of a TLS listener esxkit runs (Redfish, the vSPC's telnets://): the
// configured PEM pair, or a self-signed pair made once into state_dir (private key 0600) and
// reused on every start, so clients that pinned its thumbprint keep working.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import { splitListen } from "../net/listen.ts";
import { createSelfSigned, pemThumbprint } from "../net/x509.ts";

export interface ServiceTls {
  cert: string;
  key: string;
  thumbprint: string;
  /** The configured certificate's path, or the generated one's. */
  source: string;
  /** True when this call made the pair (the log says so once). */
  generated: boolean;
}

export interface ServiceTlsOptions {
  tls_cert?: string;
  tls_key?: string;
  /** "host:port" the service listens on: a specific host goes into the certificate's names. */
  listen: string;
  stateDir: string;
  /** File stem in state_dir: "redfish" → redfish.crt / redfish.key. */
  stem: string;
}

export function serviceTls(o: ServiceTlsOptions, logger?: Logger, label = o.stem): ServiceTls {
  if (o.tls_cert && o.tls_key) {
    const cert = readFileSync(o.tls_cert, "utf8");
    return { cert, key: readFileSync(o.tls_key, "utf8"), thumbprint: pemThumbprint(cert) ?? "unknown", source: o.tls_cert, generated: false };
  }
  const certPath = join(o.stateDir, `${o.stem}.crt`);
  const keyPath = join(o.stateDir, `${o.stem}.key`);
  let generated = false;
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    const names = ["localhost", "127.0.0.1", "::1", hostname()];
    const host = splitListen(o.listen).hostname;
    if (host !== "0.0.0.0" && host !== "::" && !names.includes(host)) names.push(host);
    const made = createSelfSigned({ commonName: `esxkit ${hostname()}`, altNames: names });
    writeFileSync(keyPath, made.keyPem, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, made.certPem, { mode: 0o644 });
    generated = true;
    logger?.info(`${label}: generated a self-signed certificate`, { cert: certPath, thumbprint: made.thumbprint });
  }
  const cert = readFileSync(certPath, "utf8");
  return { cert, key: readFileSync(keyPath, "utf8"), thumbprint: pemThumbprint(cert) ?? "unknown", source: certPath, generated };
}
