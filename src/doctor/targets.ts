// What the doctor connects to: every [vcenter.*] and [esxi.*] of the config, or one endpoint
// given by flags (--url --username --password [--thumbprint | --ca | --insecure]).
import { readFileSync } from "node:fs";
import { normalizeEndpointUrl } from "../config/endpoint-url.ts";
import { normalizeThumbprint, THUMBPRINT_PATTERN } from "../config/thumbprint.ts";
import { resolveSecret } from "../config/secrets.ts";
import type { Config, EndpointConfig, TlsTrust } from "../config/types.ts";
import { SecretError, UsageError } from "../errors.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Every endpoint of the config, vCenters first; the same URL twice is read once. */
export function endpointsFromConfig(config: Config): EndpointConfig[] {
  const seen = new Set<string>();
  const out: EndpointConfig[] = [];
  for (const e of [...Object.values(config.vcenter), ...Object.values(config.esxi)]) {
    const key = e.url.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

export interface EndpointFlags {
  url?: string;
  username?: string;
  password?: string;
  thumbprint?: string;
  ca?: string;
  insecure?: boolean;
  "timeout-ms"?: string;
}

const URL_RE = /^https?:\/\/[^/\s]+(\/\S*)?$/;

/** One endpoint from flags. The password takes env:NAME, file:PATH or credential:NAME like the config. */
export function endpointFromFlags(f: EndpointFlags, env: NodeJS.ProcessEnv = process.env): EndpointConfig {
  if (!f.url) throw new UsageError("--url is required with --username/--password");
  let url: string;
  try {
    url = normalizeEndpointUrl(f.url);
  } catch {
    throw new UsageError(`--url: expected a URL like https://host/sdk, got ${JSON.stringify(f.url)}`);
  }
  if (!URL_RE.test(url)) throw new UsageError(`--url: expected a URL like https://host/sdk, got ${JSON.stringify(f.url)}`);
  if (!f.username) throw new UsageError("--username is required with --url");
  if (!f.password) throw new UsageError("--password is required with --url (env:NAME, file:PATH or credential:NAME keeps it out of ps)");
  const modes = [f.thumbprint !== undefined && "--thumbprint", f.ca !== undefined && "--ca", f.insecure && "--insecure"].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`choose one of --thumbprint, --ca or --insecure (got ${modes.join(" and ")})`);
  let tls: TlsTrust = { mode: "verify" };
  if (f.thumbprint !== undefined) {
    if (!THUMBPRINT_PATTERN.test(f.thumbprint)) throw new UsageError(`--thumbprint: expected a SHA-1 or SHA-256 thumbprint (hex, colons allowed), got ${JSON.stringify(f.thumbprint)}`);
    tls = { mode: "thumbprint", thumbprint: normalizeThumbprint(f.thumbprint) ?? f.thumbprint };
  } else if (f.ca !== undefined) {
    try {
      tls = { mode: "verify", ca: readFileSync(f.ca, "utf8") };
    } catch (err) {
      throw new UsageError(`--ca: cannot read ${f.ca} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  } else if (f.insecure) {
    tls = { mode: "insecure" };
  }
  let timeout = DEFAULT_TIMEOUT_MS;
  if (f["timeout-ms"] !== undefined) {
    timeout = Number(f["timeout-ms"]);
    if (!Number.isInteger(timeout) || timeout < 100 || timeout > 600_000) throw new UsageError(`--timeout-ms: expected an integer 100..600000, got ${JSON.stringify(f["timeout-ms"])}`);
  }
  let password: string;
  try {
    password = resolveSecret(f.password, { env });
  } catch (err) {
    if (err instanceof SecretError) throw new UsageError(`--password: ${err.message}`);
    throw err;
  }
  return { name: new URL(url).hostname, url, username: f.username, password, tls, timeout_ms: timeout };
}
