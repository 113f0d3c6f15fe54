// The raw shape of config.toml, as valibot schemas. Messages say what was expected and
// what was found, because they end up in front of a field engineer next to a line number.
// Cross-field rules (references, duplicates, exactly-one-of) live in validate.ts.
import * as v from "valibot";
import { maskUriPasswords } from "./mask.ts";
import { THUMBPRINT_PATTERN } from "./thumbprint.ts";
import { DEFAULT_MAX_CONNECTIONS } from "./types.ts";

export function show(input: unknown): string {
  if (typeof input === "string") return JSON.stringify(maskUriPasswords(input));
  if (input === undefined) return "nothing";
  if (Array.isArray(input)) return "an array";
  if (input instanceof Date) return "a date";
  if (typeof input === "object" && input !== null) return "a table";
  return String(input);
}

const expect = (what: string) => (issue: v.BaseIssue<unknown>) =>
  issue.input === undefined ? `missing: expected ${what}` : `expected ${what}, got ${show(issue.input)}`;

function intRange(min: number, max: number) {
  const msg = expect(`an integer ${min}..${max}`);
  return v.pipe(v.number(msg), v.integer(msg), v.minValue(min, msg), v.maxValue(max, msg));
}
const str = (what = "a string") => v.pipe(v.string(expect(what)), v.minLength(1, expect(`a non-empty ${what.replace(/^an? /, "")}`)));
const bool = v.boolean(expect("true or false"));
const strList = (what = "an array of strings") => v.array(v.string(expect(what)), expect(what));
const secret = str("a secret: env:NAME, file:PATH, credential:NAME or the value itself");
const httpsUrl = v.pipe(str("a URL"), v.regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, expect("a URL like https://host/sdk")));
const thumbprint = v.pipe(
  str("a thumbprint"),
  v.regex(THUMBPRINT_PATTERN, expect("a SHA-1 or SHA-256 thumbprint (hex, colons allowed)")),
);
// Five digits pass the form, so the range is checked too: 99999 used to fail only at start.
const portOf = (hp: string) => /:(\d+)$/.exec(hp)?.[1];
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:]+):\d{1,5}$/;
const HOST_OPTIONAL_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+)(:\d{1,5})?$/;
const portInRange = (form: RegExp) =>
  v.check((hp: string) => {
    const port = portOf(hp);
    return !form.test(hp) || port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, (issue) => `port ${portOf(String(issue.input))} is out of range 1..65535`);
// A listener binds a local address, so its host is an IP literal (as bmc.address and the SLP
// interfaces are) or "localhost": config check looks no name up, and a name that does not
// resolve (or resolves elsewhere) used to fail only when `serve` bound it.
const listenHost = (hp: string) => hp.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
const ipLiteral = v.pipe(v.string(), v.ip());
const localAddress = (form: RegExp) =>
  v.check(
    (hp: string) => !form.test(hp) || listenHost(hp) === "localhost" || v.is(ipLiteral, listenHost(hp)),
    (issue) => `expected an IP address to listen on (such as 0.0.0.0, [::] or 127.0.0.1) or localhost, got ${show(issue.input)}: names are not looked up`,
  );
// valibot runs every check of a pipe: the later ones judge only a value of the right form.
/** A peer to connect to (vm_probe): a name is fine, it is resolved when the probe runs. */
const hostPort = v.pipe(str("host:port"), v.regex(HOST_PORT, expect('"host:port" (IPv6 in brackets)')), portInRange(HOST_PORT));
/** An address esxkit listens on (metrics_listen, [redfish] listen). */
const listenHostPort = v.pipe(hostPort, localAddress(HOST_PORT));
/** [console] listen: the port may be left out (13370). */
const listenAddress = v.pipe(
  str("host:port"),
  v.regex(HOST_OPTIONAL_PORT, expect('"host:port" or "host" (IPv6 in brackets)')),
  portInRange(HOST_OPTIONAL_PORT),
  localAddress(HOST_OPTIONAL_PORT),
);

// SLP's allowlist is IPv4 only (src/slp/net.ts): an address, or a network with a prefix of 0..32.
const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\/(3[0-2]|[12]?\d))?$/;
const ipv4OrCidr = v.pipe(v.string(expect("an IPv4 address or CIDR")), v.regex(IPV4_CIDR, expect('an IPv4 address or CIDR like "192.0.2.0/24"')));

const endpointEntries = {
  url: httpsUrl,
  username: str("a user name"),
  password: secret,
  thumbprint: v.optional(thumbprint),
  ca: v.optional(str("a path to a PEM CA file")),
  insecure: v.optional(bool, false),
  timeout_ms: v.optional(intRange(100, 600_000), 10_000),
  max_connections: v.optional(intRange(1, 1024), DEFAULT_MAX_CONNECTIONS),
};

export const physicalBmcSchema = v.strictObject({
  address: str("an IP address or host name"),
  port: v.optional(intRange(1, 65535), 623),
  username: str("a user name"),
  password: secret,
  cipher_suite: v.optional(v.picklist([3, 17], expect("cipher suite 3 or 17")), 17),
  privilege: v.optional(v.picklist(["operator", "administrator"], expect('"operator" or "administrator"')), "administrator"),
  guid: v.optional(v.pipe(str("a System GUID"), v.regex(/^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$/, expect('a GUID like "4c4c4544-0042-3510-8052-b2c04f4e3432"')))),
});

/** Where `serve` listens for `esxkit status` & co. unless daemon.control_socket says otherwise. */
export const DEFAULT_CONTROL_SOCKET = "/run/esxkit/control.sock";

export const daemonSchema = v.strictObject({
  log_level: v.optional(v.picklist(["debug", "info", "warn", "error"], expect('one of "debug", "info", "warn", "error"')), "info"),
  state_dir: v.optional(str("a directory path"), "/var/lib/esxkit"),
  control_socket: v.optional(str("a socket path"), DEFAULT_CONTROL_SOCKET),
  metrics_listen: v.optional(listenHostPort),
});

export const vcenterSchema = v.strictObject(endpointEntries);
export const esxiSchema = v.strictObject({ ...endpointEntries, bmc: v.optional(physicalBmcSchema) });

const privilege = v.picklist(["user", "operator", "administrator"], expect('"user", "operator" or "administrator"'));

export const bmcSchema = v.strictObject({
  name: v.optional(str("a name")),
  vm: v.optional(str("a VM name")),
  vm_uuid: v.optional(v.pipe(str("a BIOS uuid"), v.uuid(expect("a uuid like 4210a5c3-…")))),
  instance_uuid: v.optional(v.pipe(str("an instance uuid"), v.uuid(expect("a uuid like 5010a5c3-…")))),
  vcenter: v.optional(str("a [vcenter.NAME] name")),
  address: v.optional(v.pipe(str("an IP address"), v.ip(expect('an IP address such as "::", "0.0.0.0" or "192.0.2.5"'))), "::"),
  /** IPMI over LAN; false = a Redfish-only machine (then port, username and password are not needed). */
  ipmi: v.optional(bool, true),
  /** Shown as a ComputerSystem by the [redfish] service. */
  redfish: v.optional(bool, true),
  port: v.optional(intRange(1, 65535)),
  username: v.optional(str("a user name")),
  password: v.optional(secret),
  privilege: v.optional(privilege, "administrator"),
  mac: v.optional(v.pipe(str("a MAC address"), v.regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, expect('a MAC address like "02:00:00:aa:bb:cc"')))),
  cipher_suites: v.optional(v.array(v.picklist([0, 3, 17], expect("cipher suite 3 or 17 (0 only with allow_insecure_auth)")), expect("an array of cipher suites")), [17, 3]),
  ipmi15: v.optional(bool, false),
  allow_insecure_auth: v.optional(bool, false),
  max_sessions: v.optional(intRange(1, 64), 16),
  session_timeout_s: v.optional(intRange(5, 3600), 60),
  logins_per_minute_per_source: v.optional(intRange(1, 100_000), 120),
  logins_per_minute_per_user: v.optional(intRange(1, 100_000), 240),
  max_staleness_s: v.optional(intRange(1, 3600), 30),
  /** The VM's serial port dials esxkit's [console] vSPC (src/vsphere/serial-port.ts adds it). */
  serial: v.optional(bool, false),
});

export const redfishSchema = v.strictObject({
  listen: v.optional(listenHostPort, "0.0.0.0:8443"),
  username: str("a user name"),
  password: secret,
  tls_cert: v.optional(str("a path to a PEM certificate")),
  tls_key: v.optional(str("a path to a PEM private key")),
  media_datastore: v.optional(str("a datastore name")),
  session_timeout_s: v.optional(intRange(60, 86_400), 1800),
  max_sessions: v.optional(intRange(1, 1024), 64),
  media_wait_s: v.optional(intRange(0, 86_400), 1800),
});

/** The port VMware's vSPC examples use, and esxkit's default for [console] listen. */
export const DEFAULT_CONSOLE_PORT = 13370;

// What ESXi accepts as a vSPC proxyURI: telnet://host:port, or telnets://host:port with an
// optional #thumbprint= pin of esxkit's certificate (VMware's "Using a Proxy with Virtual Serial Ports").
export const PROXY_URI_PATTERN = /^(telnets?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})(#thumbprint=([0-9A-Fa-f:]+))?$/;
const proxyUri = v.pipe(
  str("a vSPC URI"),
  v.regex(PROXY_URI_PATTERN, expect('a vSPC URI like "telnet://esxkit.example.com:13370" or "telnets://esxkit.example.com:13370#thumbprint=AB:CD:…"')),
);

export const consoleSchema = v.strictObject({
  listen: v.optional(listenAddress, `0.0.0.0:${DEFAULT_CONSOLE_PORT}`),
  proxy_uri: v.optional(proxyUri),
  tls_cert: v.optional(str("a path to a PEM certificate")),
  tls_key: v.optional(str("a path to a PEM private key")),
  log_max_bytes: v.optional(intRange(4096, 1 << 30), 1 << 20),
  log_files: v.optional(intRange(0, 100), 3),
  ring_bytes: v.optional(intRange(1024, 16 << 20), 64 << 10),
  max_connections: v.optional(intRange(1, 65_535), 256),
});

export const slpSchema = v.strictObject({
  name: v.optional(str("a name")),
  host: v.pipe(str("a host FQDN"), v.regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/, expect("a host name like esxi01.example.local"))),
  urls: v.optional(strList("an array of service URLs")),
  lifetime: v.optional(intRange(1, 65535), 10800),
  profile: v.optional(v.picklist(["lsi-msm"], expect('the profile "lsi-msm"'))),
  attributes_file: v.optional(str("a path to an attribute file")),
  attributes: v.optional(v.record(v.string(), v.union([v.string(), strList()], expect("a string or an array of strings"))), {}),
  vmware_infrastructure: v.optional(bool, false),
  interfaces: v.optional(v.array(v.pipe(v.string(expect("an IPv4 address")), v.ipv4(expect("an IPv4 address (SLP here is IPv4 only)")))), []),
  scopes: v.optional(strList("an array of scope names"), ["DEFAULT"]),
  port: v.optional(intRange(1, 65535), 427),
  tcp: v.optional(bool, false),
  allow: v.optional(v.array(ipv4OrCidr, expect("an array of IPv4 addresses or CIDRs")), []),
  rate_per_source: v.optional(intRange(1, 100_000), 10),
  rate_burst: v.optional(intRange(1, 100_000), 20),
  reply_bytes_per_s: v.optional(intRange(1400, 1 << 30), 262_144),
});

export const watchdogSchema = v.strictObject({
  name: v.optional(str("a name")),
  vm: str("the protected VM's name"),
  hosts: v.pipe(strList("an array of [esxi.NAME] names"), v.minLength(1, expect("at least one [esxi.NAME] host"))),
  vm_probe: v.optional(hostPort),
  isolation_addresses: v.optional(strList("an array of IP addresses"), []),
  probe_interval_ms: v.optional(intRange(200, 600_000), 2000),
  probe_timeout_ms: v.optional(intRange(100, 60_000), 1500),
  misses_to_fail: v.optional(intRange(1, 100), 3),
  successes_to_recover: v.optional(intRange(1, 100), 3),
  cooldown_s: v.optional(intRange(0, 86_400), 600),
  max_failovers_per_hour: v.optional(intRange(1, 60), 2),
  fence_timeout_s: v.optional(intRange(5, 3600), 60),
  lock_retry_s: v.optional(intRange(0, 3600), 90),
  claim_ttl_s: v.optional(intRange(30, 86_400), 300),
  dry_run: v.optional(bool, false),
  webhook: v.optional(httpsUrl),
  command: v.optional(v.pipe(strList("an argv array"), v.minLength(1, expect("a non-empty argv array")))),
  self_host: v.optional(str("an [esxi.NAME] name")),
  vcenter: v.optional(str("a [vcenter.NAME] name")),
});

export const configSchema = v.strictObject({
  daemon: v.optional(daemonSchema, {}),
  vcenter: v.optional(v.record(v.string(), vcenterSchema, expect("[vcenter.NAME] tables")), {}),
  esxi: v.optional(v.record(v.string(), esxiSchema, expect("[esxi.NAME] tables")), {}),
  bmc: v.optional(v.array(bmcSchema, expect("[[bmc]] entries")), []),
  redfish: v.optional(redfishSchema),
  console: v.optional(consoleSchema),
  slp: v.optional(v.array(slpSchema, expect("[[slp]] entries")), []),
  watchdog: v.optional(v.array(watchdogSchema, expect("[[watchdog]] entries")), []),
});

export type RawConfig = v.InferOutput<typeof configSchema>;
export type RawEndpoint = v.InferOutput<typeof vcenterSchema>;
