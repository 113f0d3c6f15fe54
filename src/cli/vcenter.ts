// `esxkit vcenter check NAME` and `esxkit vcenter thumbprint URL`: the vSphere client's
// outside face for field use (is the endpoint reachable, trusted, and are the credentials right?).
import { defineCommand } from "citty";
import { normalizeEndpointUrl } from "../config/endpoint-url.ts";
import type { Config, EndpointConfig } from "../config/types.ts";
import { NotFoundError, TlsPinError, TlsVerifyError } from "../errors.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { VimClient } from "../vsphere/client.ts";
import { fetchServerCertificate, type Thumbprints } from "../vsphere/thumbprint.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { jsonArg, printJson, stderr, stdout } from "./output.ts";

/** [vcenter.NAME] or [esxi.NAME] from the config; NotFoundError naming the choices otherwise. */
export function endpointByName(config: Config, name: string): EndpointConfig {
  const e = config.vcenter[name] ?? config.esxi[name];
  if (e) return e;
  const known = [...Object.keys(config.vcenter).map((n) => `vcenter.${n}`), ...Object.keys(config.esxi).map((n) => `esxi.${n}`)];
  throw new NotFoundError(`no [vcenter.${name}] or [esxi.${name}] in ${config.file}${known.length ? ` (have: ${known.join(", ")})` : ""}`);
}

/** Warnings (e.g. insecure = true) to stderr, so stdout stays clean for output. */
export function cliLogger(): Logger {
  return createLogger({ level: "warn", format: "pretty", write: (line) => stderr(`${line}\n`) });
}

/** Add a hint a field engineer can act on to TLS failures. */
export function withTlsHint(err: unknown, e: EndpointConfig): unknown {
  if (err instanceof TlsVerifyError) {
    err.message += `\n  hint: if this certificate is expected, pin it: esxkit vcenter thumbprint ${e.url}`;
  } else if (err instanceof TlsPinError) {
    err.message += `\n  configured: ${err.expected}\n  if the certificate was renewed on purpose, update thumbprint = "${err.actualSha256}"`;
  }
  return err;
}

const check = defineCommand({
  meta: { name: "check", examples: ["esxkit vcenter check lab -c config.toml", "esxkit vcenter check esx01 --json"], description: "connect and log in to [vcenter.NAME] or [esxi.NAME]; print product, version, build, apiType, certificate thumbprint" },
  args: {
    name: { type: "positional", description: "endpoint name from the config", required: true, valueHint: "NAME" },
    ...configArg,
    ...jsonArg,
  },
  async run({ args }) {
    const config = loadConfigFromArgs(args);
    const endpoint = endpointByName(config, args.name);
    let peer: Thumbprints | undefined;
    let client: VimClient;
    try {
      client = await VimClient.connect(endpoint, {
        logger: cliLogger(),
        http: { onConnection: (info) => (peer ??= info.thumbprints) },
      });
    } catch (err) {
      throw withTlsHint(err, endpoint);
    }
    try {
      const a = client.about;
      const result = {
        endpoint: endpoint.name,
        url: endpoint.url,
        product: a.fullName,
        version: a.version,
        build: a.build,
        apiType: a.apiType,
        apiVersion: a.apiVersion,
        user: client.session?.userName ?? endpoint.username,
        thumbprint_sha256: peer?.sha256 ?? null,
        tls: endpoint.tls.mode,
      };
      if (args.json) return printJson(result);
      const lines = [
        `${endpoint.name}: ${endpoint.url}: OK`,
        `  product:    ${result.product}`,
        `  version:    ${result.version}`,
        `  build:      ${result.build}`,
        `  apiType:    ${result.apiType}`,
        `  logged in:  ${result.user}`,
        `  tls:        ${result.tls}`,
        `  thumbprint: ${result.thumbprint_sha256 ?? "(plain http)"}`,
      ];
      stdout(`${lines.join("\n")}\n`);
    } finally {
      await client.close();
    }
  },
});

/** "host", "host:port" or a URL → https URL. */
function toHttpsUrl(input: string): string {
  return normalizeEndpointUrl(input);
}

const thumbprint = defineCommand({
  meta: { name: "thumbprint", examples: ["esxkit vcenter thumbprint https://vcsa.example.local", "esxkit vcenter thumbprint esx01.lab:443 --json"], description: "print a server certificate's SHA-256 and SHA-1 thumbprints, ready to paste as thumbprint = \"…\"" },
  args: {
    url: { type: "positional", description: "https://host[:port][/sdk], or host[:port]", required: true, valueHint: "URL" },
    ...jsonArg,
  },
  async run({ args }) {
    const url = toHttpsUrl(args.url);
    const cert = await fetchServerCertificate(url, 10_000);
    if (args.json) {
      return printJson({ url, sha256: cert.sha256, sha1: cert.sha1, subject: cert.subject, issuer: cert.issuer, valid_to: cert.validTo, trusted_by_system: cert.authorized });
    }
    const oneLine = (dn: string) => dn.replace(/\n/g, ", ");
    const lines = [
      `# ${url}`,
      `# subject: ${oneLine(cert.subject)}`,
      `# issuer:  ${oneLine(cert.issuer)}`,
      `# valid:   ${cert.validFrom} .. ${cert.validTo}`,
      `# verifies against the system CA store: ${cert.authorized ? "yes" : `no (${cert.authorizationError ?? "untrusted"})`}`,
      `# Compare with the certificate shown on the host's console or in vCenter before you trust it.`,
      `thumbprint = "${cert.sha256}"   # SHA-256`,
      `# thumbprint = "${cert.sha1}"   # SHA-1, the same certificate`,
    ];
    stdout(`${lines.join("\n")}\n`);
  },
});

export default defineCommand({
  meta: { name: "vcenter", examples: ["esxkit vcenter thumbprint https://vcsa.example.local", "esxkit vcenter check lab"], description: "check vCenter / ESXi endpoints" },
  subCommands: { check, thumbprint },
});
