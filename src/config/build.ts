// Raw (schema-valid) config → typed Config: defaults that depend on other keys, secret
// resolution, TLS mode, and the rules that span entries (references, duplicates, exactly-one-of).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { normalizeEndpointUrl } from "./endpoint-url.ts";
import { DEFAULT_CONSOLE_PORT, PROXY_URI_PATTERN, type RawConfig, type RawEndpoint } from "./schema.ts";
import { THUMBPRINT_PATTERN, normalizeThumbprint } from "./thumbprint.ts";
import type { BmcConfig, Config, ConsoleConfig, EndpointConfig, EsxiConfig, SlpConfig, TlsTrust, VmSelector, WatchdogConfig } from "./types.ts";

type Segment = string | number;

export interface BuildContext {
  file: string;
  baseDir: string;
  resolveSecret(ref: string, path: Segment[]): string;
}

interface Problems {
  add(path: Segment[], detail: string, atValue?: boolean): void;
}

function abs(ctx: BuildContext, p: string): string {
  return isAbsolute(p) ? p : resolve(ctx.baseDir, p);
}

function buildTls(e: RawEndpoint, path: Segment[], ctx: BuildContext, problems: Problems): TlsTrust {
  const modes = [e.thumbprint !== undefined && "thumbprint", e.ca !== undefined && "ca", e.insecure && "insecure"].filter(Boolean);
  if (modes.length > 1) {
    problems.add([...path, modes[1] as string], `choose one of thumbprint, ca or insecure (found ${modes.join(" and ")})`, false);
  }
  // The schema has checked the form (THUMBPRINT_PATTERN), so normalising cannot fail here.
  if (e.thumbprint !== undefined) return { mode: "thumbprint", thumbprint: normalizeThumbprint(e.thumbprint) ?? e.thumbprint };
  if (e.ca !== undefined) {
    try {
      return { mode: "verify", ca: readFileSync(abs(ctx, e.ca), "utf8") };
    } catch (err) {
      problems.add([...path, "ca"], `cannot read CA file ${e.ca} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      return { mode: "verify" };
    }
  }
  if (e.insecure) return { mode: "insecure" };
  return { mode: "verify" };
}

function buildEndpoint(name: string, e: RawEndpoint, path: Segment[], ctx: BuildContext, problems: Problems): EndpointConfig {
  return {
    name,
    url: normalizeEndpointUrl(e.url),
    username: e.username,
    password: ctx.resolveSecret(e.password, [...path, "password"]),
    tls: buildTls(e, path, ctx, problems),
    timeout_ms: e.timeout_ms,
    max_connections: e.max_connections,
  };
}

function vmSelector(b: RawConfig["bmc"][number], path: Segment[], problems: Problems): VmSelector {
  const given = (["vm", "vm_uuid", "instance_uuid"] as const).filter((k) => b[k] !== undefined);
  if (given.length !== 1) {
    problems.add(path, given.length === 0 ? "missing: one of vm, vm_uuid or instance_uuid" : `choose one of ${given.join(", ")}`, false);
  }
  if (b.vm_uuid) return { by: "uuid", value: b.vm_uuid.toLowerCase() };
  if (b.instance_uuid) return { by: "instance_uuid", value: b.instance_uuid.toLowerCase() };
  return { by: "name", value: b.vm ?? "" };
}

function isWildcard(addr: string): boolean {
  return addr === "::" || addr === "0.0.0.0";
}


function buildBmcs(raw: RawConfig, ctx: BuildContext, problems: Problems): BmcConfig[] {
  const vcenterNames = Object.keys(raw.vcenter);
  const names = new Map<string, number>();
  const out: BmcConfig[] = raw.bmc.map((b, i) => {
    const path: Segment[] = ["bmc", i];
    const vm = vmSelector(b, path, problems);
    let vcenter = b.vcenter;
    if (vcenter === undefined) {
      if (vcenterNames.length === 1) vcenter = vcenterNames[0] as string;
      else problems.add(path, `missing: vcenter (there are ${vcenterNames.length} [vcenter.*] sections)`, false);
    } else if (!raw.vcenter[vcenter]) {
      problems.add([...path, "vcenter"], `no [vcenter.${vcenter}] section${vcenterNames.length ? ` (have: ${vcenterNames.join(", ")})` : ""}`);
    }
    if (b.ipmi) {
      for (const k of ["port", "username", "password"] as const) {
        if (b[k] === undefined) problems.add([...path, k], `missing required key "${k}" (or ipmi = false for a machine that only Redfish manages)`, false);
      }
    }
    if (!b.ipmi && !b.redfish) problems.add([...path, "redfish"], "ipmi = false and redfish = false leave nothing to serve for this machine");
    if (b.serial && !raw.console) problems.add([...path, "serial"], "serial = true needs a [console] section (with proxy_uri) for the VM's serial port to dial");
    if (!b.ipmi && !raw.redfish) problems.add([...path, "ipmi"], "ipmi = false needs a [redfish] section, or this machine is served by nothing");
    const password = b.password === undefined ? "" : ctx.resolveSecret(b.password, [...path, "password"]);
    const name = b.name ?? vm.value;
    const prev = names.get(name);
    if (prev !== undefined) problems.add([...path, b.name ? "name" : "vm"], `duplicate BMC name "${name}" (also bmc[${prev}]); set name = "…"`);
    names.set(name, i);
    // IPMI carries the password in a fixed field: 20 bytes for RMCP+, 16 for IPMI 1.5.
    const passwordBytes = Buffer.byteLength(password);
    if (passwordBytes > 20) problems.add([...path, "password"], `IPMI passwords are at most 20 bytes (this one has ${passwordBytes})`);
    else if (b.ipmi15 && passwordBytes > 16) problems.add([...path, "password"], `IPMI 1.5 (ipmi15 = true) passwords are at most 16 bytes (this one has ${passwordBytes})`);
    if (b.cipher_suites.length === 0) problems.add([...path, "cipher_suites"], "expected at least one cipher suite");
    if (b.cipher_suites.includes(0) && !b.allow_insecure_auth) {
      problems.add([...path, "cipher_suites"], "cipher suite 0 sends commands unauthenticated; it needs allow_insecure_auth = true");
    }
    return {
      name,
      vm,
      vcenter: vcenter ?? "",
      ipmi: b.ipmi,
      redfish: b.redfish,
      address: b.address,
      port: b.ipmi ? (b.port ?? 0) : 0,
      username: b.username ?? "",
      password,
      privilege: b.privilege,
      mac: b.mac?.replace(/-/g, ":").toLowerCase(),
      cipher_suites: [...new Set(b.cipher_suites)],
      ipmi15: b.ipmi15,
      allow_insecure_auth: b.allow_insecure_auth,
      max_sessions: b.max_sessions,
      session_timeout_s: b.session_timeout_s,
      logins_per_minute_per_source: b.logins_per_minute_per_source,
      logins_per_minute_per_user: b.logins_per_minute_per_user,
      max_staleness_s: b.max_staleness_s,
      serial: b.serial,
    };
  });
  const ports: ListenersByPort = new Map();
  out.forEach((a, i) => {
    if (!a.ipmi) return; // a Redfish-only machine listens on no IPMI port
    const j = firstClash(a, i, ports);
    if (j !== undefined) {
      const b = out[j] as BmcConfig;
      problems.add(["bmc", i, "port"], `port ${a.port} on ${a.address} is already used by bmc[${j}] (${b.address}:${b.port})`);
    }
  });
  return out;
}

/** Per port: the first entry, the first IPv4 one, and the first on each address. */
type ListenersByPort = Map<number, { any: number; ipv4?: number; byAddress: Map<string, number> }>;

/**
 * The lowest index before `i` whose listener clashes with entry i's, then records entry i (call
 * in index order). Two listeners clash when they share a port and one address covers the other:
 * the same address, "::" (dual stack covers IPv4 too), or "0.0.0.0" against any IPv4 address.
 * O(1) per entry, so thousands of BMCs sharing one port cost nothing.
 */
function firstClash(a: BmcConfig, i: number, ports: ListenersByPort): number | undefined {
  const p = ports.get(a.port);
  let clash: number | undefined;
  if (p) {
    const candidates = [p.byAddress.get(a.address), p.byAddress.get("::")];
    if (a.address === "::") candidates.push(p.any);
    else if (a.address === "0.0.0.0") candidates.push(p.ipv4);
    else if (!a.address.includes(":")) candidates.push(p.byAddress.get("0.0.0.0"));
    for (const c of candidates) if (c !== undefined && (clash === undefined || c < clash)) clash = c;
  }
  const entry = p ?? { any: i, byAddress: new Map<string, number>() };
  if (!entry.byAddress.has(a.address)) entry.byAddress.set(a.address, i);
  if (entry.ipv4 === undefined && !a.address.includes(":")) entry.ipv4 = i;
  ports.set(a.port, entry);
  return clash;
}

function buildSlp(raw: RawConfig, ctx: BuildContext, problems: Problems): SlpConfig[] {
  const names = new Set<string>();
  return raw.slp.map((s, i) => {
    const path: Segment[] = ["slp", i];
    if ((s.profile === undefined) === (s.attributes_file === undefined)) {
      problems.add(path, s.profile ? "choose one of profile or attributes_file" : 'missing: profile = "lsi-msm" or attributes_file = "…"', false);
    }
    let attributesFile: string | undefined;
    if (s.attributes_file !== undefined) {
      attributesFile = abs(ctx, s.attributes_file);
      try {
        readFileSync(attributesFile);
      } catch (err) {
        problems.add([...path, "attributes_file"], `cannot read ${s.attributes_file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      }
    }
    const name = s.name ?? s.host;
    if (names.has(name)) problems.add([...path, s.name ? "name" : "host"], `duplicate SLP entry "${name}"; set name = "…"`);
    names.add(name);
    const attributes: Record<string, string[]> = {};
    for (const [k, val] of Object.entries(s.attributes)) attributes[k] = Array.isArray(val) ? val : [val];
    for (const [j, u] of (s.urls ?? []).entries()) {
      if (!/^service:[A-Za-z0-9.+-]+(:[A-Za-z0-9.+-]+)?:\/\/\S+$/.test(u)) problems.add([...path, "urls"], `urls[${j}]: expected a service URL like service:wbem:https://${s.host}:5989, got ${JSON.stringify(u)}`);
    }
    return {
      name,
      host: s.host,
      urls: s.urls ?? [`service:wbem:https://${s.host}:5989`],
      lifetime: s.lifetime,
      profile: s.profile,
      attributes_file: attributesFile,
      attributes,
      vmware_infrastructure: s.vmware_infrastructure,
      interfaces: s.interfaces,
      scopes: s.scopes,
      port: s.port,
      tcp: s.tcp,
      allow: s.allow,
      rate_per_source: s.rate_per_source,
      rate_burst: s.rate_burst,
      reply_bytes_per_s: s.reply_bytes_per_s,
    };
  });
}

function buildConsole(raw: RawConfig, ctx: BuildContext, problems: Problems): ConsoleConfig | undefined {
  const c = raw.console;
  if (!c) return undefined;
  // The schema allows "host", "host:port", "[v6]" and "[v6]:port": only the last colon-digits is a port.
  const listen = /:\d+$/.test(c.listen) ? c.listen : `${c.listen}:${DEFAULT_CONSOLE_PORT}`;
  const listenPort = Number(/:(\d+)$/.exec(listen)?.[1]);
  if (!(listenPort >= 1 && listenPort <= 65535)) problems.add(["console", "listen"], `port ${listenPort} is out of range 1..65535`);
  if ((c.tls_cert === undefined) !== (c.tls_key === undefined)) {
    problems.add(["console", c.tls_cert === undefined ? "tls_key" : "tls_cert"], "tls_cert and tls_key go together: set both (a TLS listener, telnets://) or neither", false);
  }
  if (c.proxy_uri !== undefined) {
    // The schema checked the form; what is left are the rules between its parts and the listener.
    const m = PROXY_URI_PATTERN.exec(c.proxy_uri) as RegExpExecArray;
    const [scheme, port, pin] = [m[1], Number(m[4]), m[6]];
    if (!(port >= 1 && port <= 65535)) problems.add(["console", "proxy_uri"], `port ${port} is out of range 1..65535`);
    if (pin !== undefined && scheme !== "telnets") problems.add(["console", "proxy_uri"], "#thumbprint= pins a TLS certificate: it needs telnets://, not telnet://");
    if (pin !== undefined && !THUMBPRINT_PATTERN.test(pin)) problems.add(["console", "proxy_uri"], `#thumbprint=${pin} is not a SHA-1 or SHA-256 thumbprint (hex, colons allowed)`);
    // With a certificate the one listener speaks only TLS, so a plain telnet:// host could never connect.
    if (c.tls_cert !== undefined && scheme === "telnet") problems.add(["console", "proxy_uri"], "tls_cert is set, so the listener speaks TLS: use telnets://");
  }
  const serial = raw.bmc.findIndex((b) => b.serial);
  if (serial >= 0 && c.proxy_uri === undefined) {
    problems.add(["console"], `missing: proxy_uri (bmc[${serial}] has serial = true, and its VM's serial port must know what to dial, e.g. "telnet://esxkit.example.com:${listenPort}")`, false);
  }
  return {
    listen,
    proxy_uri: c.proxy_uri,
    tls_cert: c.tls_cert === undefined ? undefined : abs(ctx, c.tls_cert),
    tls_key: c.tls_key === undefined ? undefined : abs(ctx, c.tls_key),
    log_max_bytes: c.log_max_bytes,
    log_files: c.log_files,
    ring_bytes: c.ring_bytes,
    max_connections: c.max_connections,
  };
}

/** BMCs and SLP entries are both UDP listeners: the same port on overlapping addresses cannot bind twice. */
function checkSharedPorts(bmcs: BmcConfig[], slps: SlpConfig[], problems: Problems): void {
  slps.forEach((s, i) => {
    const clash = bmcs.findIndex((b) => b.ipmi && b.port === s.port && (s.interfaces.length === 0 || isWildcard(b.address) || s.interfaces.includes(b.address)));
    if (clash >= 0) problems.add(["slp", i, "port"], `UDP port ${s.port} is also bmc[${clash}]'s (${bmcs[clash]?.address}:${s.port})`);
  });
}

/** What a failover needs after its fence, at least: one power-on task (60 s) and a margin. */
export const CLAIM_POWER_ON_BUDGET_S = 70;

function buildWatchdogs(raw: RawConfig, esxi: Record<string, EsxiConfig>, problems: Problems): WatchdogConfig[] {
  const names = new Set<string>();
  return raw.watchdog.map((w, i) => {
    const path: Segment[] = ["watchdog", i];
    w.hosts.forEach((h) => {
      if (!raw.esxi[h]) problems.add([...path, "hosts"], `no [esxi.${h}] section for host "${h}"`);
      else if (!esxi[h]?.bmc) problems.add([...path, "hosts"], `[esxi.${h}] has no bmc = { … }: the watchdog cannot fence it`);
    });
    if (new Set(w.hosts).size !== w.hosts.length) problems.add([...path, "hosts"], "a host is listed twice");
    if (w.self_host !== undefined && !raw.esxi[w.self_host]) problems.add([...path, "self_host"], `no [esxi.${w.self_host}] section`);
    if (w.vcenter !== undefined && !raw.vcenter[w.vcenter]) problems.add([...path, "vcenter"], `no [vcenter.${w.vcenter}] section`);
    if (w.probe_timeout_ms >= w.probe_interval_ms) problems.add([...path, "probe_timeout_ms"], `must be shorter than probe_interval_ms (${w.probe_interval_ms})`);
    // A claim must outlast one fence plus one power-on task (60 s) with a margin, or the holder
    // would have to give up before it could finish (src/watchdog/claim.ts).
    const minTtl = w.fence_timeout_s + CLAIM_POWER_ON_BUDGET_S;
    if (w.claim_ttl_s < minTtl) problems.add([...path, "claim_ttl_s"], `must be at least fence_timeout_s + ${CLAIM_POWER_ON_BUDGET_S} (${minTtl}): the claim has to outlast a fence and one power-on`);
    const name = w.name ?? w.vm;
    if (names.has(name)) problems.add([...path, w.name ? "name" : "vm"], `duplicate watchdog "${name}"`);
    names.add(name);
    return { ...w, name };
  });
}

export function buildConfig(raw: RawConfig, problems: Problems, ctx: BuildContext): Config {
  const vcenter: Config["vcenter"] = {};
  for (const [name, e] of Object.entries(raw.vcenter)) vcenter[name] = buildEndpoint(name, e, ["vcenter", name], ctx, problems);
  const esxi: Config["esxi"] = {};
  for (const [name, e] of Object.entries(raw.esxi)) {
    const path = ["esxi", name];
    const { bmc, ...endpoint } = e;
    esxi[name] = {
      ...buildEndpoint(name, endpoint, path, ctx, problems),
      bmc: bmc && {
        ...bmc,
        cipher_suite: bmc.cipher_suite as 3 | 17,
        password: ctx.resolveSecret(bmc.password, [...path, "bmc", "password"]),
      },
    };
  }
  const bmc = buildBmcs(raw, ctx, problems);
  const slp = buildSlp(raw, ctx, problems);
  checkSharedPorts(bmc, slp, problems);
  const warnings = raw.watchdog
    .filter((w) => w.hosts.length < 2)
    .map((w) => `watchdog "${w.name ?? w.vm}" lists one host (${w.hosts.join(", ")}): it can fence it, but there is nowhere to fail over to`);
  return {
    file: ctx.file,
    daemon: {
      log_level: raw.daemon.log_level,
      state_dir: abs(ctx, raw.daemon.state_dir),
      control_socket: abs(ctx, raw.daemon.control_socket),
      metrics_listen: raw.daemon.metrics_listen,
    },
    vcenter,
    esxi,
    bmc,
    redfish: raw.redfish && {
      ...raw.redfish,
      password: ctx.resolveSecret(raw.redfish.password, ["redfish", "password"]),
      tls_cert: raw.redfish.tls_cert === undefined ? undefined : abs(ctx, raw.redfish.tls_cert),
      tls_key: raw.redfish.tls_key === undefined ? undefined : abs(ctx, raw.redfish.tls_key),
    },
    console: buildConsole(raw, ctx, problems),
    slp,
    watchdog: buildWatchdogs(raw, esxi, problems),
    warnings,
  };
}

/** A stable fingerprint of one entry, for reload reconciliation (unchanged entries keep running). */
export function entryFingerprint(entry: unknown): string {
  return createHash("sha256").update(JSON.stringify(entry)).digest("hex");
}

