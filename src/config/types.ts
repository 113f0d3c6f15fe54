// The typed, validated configuration that subsystems receive. Secrets are already
// resolved here (env:/file:/credential: references replaced by their values) and were
// registered with the log redactor when they were resolved.
//
// TOML keys are snake_case; the typed config keeps the same names so an error message,
// the docs and the code all say the same thing.

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface DaemonConfig {
  log_level: LogLevel;
  /** Where watchdog state, the audit journal and BMC identities are persisted. */
  state_dir: string;
  /** Unix socket of the local control API (`esxkit status`, …). */
  control_socket: string;
  /** Opt-in HTTP listener for /healthz and /metrics, "host:port". */
  metrics_listen?: string;
}

/** TLS trust for an HTTPS endpoint: exactly one of these modes applies. */
export type TlsTrust =
  | { mode: "verify"; ca?: string /* PEM text of the CA file, when `ca` is set */ }
  | { mode: "thumbprint"; thumbprint: string /* normalised upper-case hex with colons */ }
  | { mode: "insecure" };

/** Connections per vCenter/ESXi endpoint for ordinary calls (long polls and transfers aside). */
export const DEFAULT_MAX_CONNECTIONS = 16;

/** A vim25 SOAP endpoint: a vCenter or a standalone ESXi host. */
export interface EndpointConfig {
  name: string;
  url: string;
  username: string;
  password: string;
  tls: TlsTrust;
  /** Hard deadline for one SOAP call, in ms. */
  timeout_ms: number;
  /**
   * Most connections open at once for ordinary calls; more calls wait for one (within their
   * deadline). Long polls and datastore transfers have connections of their own. The config
   * always sets it (default 16); endpoints made in code may leave it to the transport's default.
   */
  max_connections?: number;
}

export type VcenterConfig = EndpointConfig;

export interface PhysicalBmcConfig {
  address: string;
  port: number;
  username: string;
  password: string;
  /** RMCP+ cipher suite to try first; the client falls back from 17 to 3. */
  cipher_suite: 3 | 17;
  privilege: "operator" | "administrator";
  /**
   * The System GUID this BMC must report (IPMI Get System GUID), pinned by hand. Without it the
   * watchdog compares the BMC's GUID with its host's hardware uuid and never fences a host
   * whose BMC does not match.
   */
  guid?: string;
}

export interface EsxiConfig extends EndpointConfig {
  bmc?: PhysicalBmcConfig;
}

export type VmSelector = { by: "name"; value: string } | { by: "uuid"; value: string } | { by: "instance_uuid"; value: string };

export interface BmcConfig {
  /** Display name, unique across [[bmc]]; defaults to the VM selector's value. */
  name: string;
  vm: VmSelector;
  vcenter: string;
  /** IPMI over LAN on address:port; false = Redfish only (port is then 0). */
  ipmi: boolean;
  /** A ComputerSystem of the [redfish] service (when there is one). */
  redfish: boolean;
  address: string;
  port: number;
  username: string;
  password: string;
  /** Highest privilege this user may take: "user" | "operator" | "administrator". */
  privilege: "user" | "operator" | "administrator";
  /** LAN parameter 5 MAC; default derived stably from the VM selector. */
  mac?: string;
  /** Cipher suites offered, subset of [3, 17] (0 only when allow_cipher_0). */
  cipher_suites: number[];
  /** IPMI 1.5 with MD5 authentication (vCenter DPM's documented path). */
  ipmi15: boolean;
  /** Suite 0 / auth type "none" and "straight password": off unless explicitly enabled. */
  allow_insecure_auth: boolean;
  max_sessions: number;
  session_timeout_s: number;
  /** Session setups (RAKP 2 codes handed out) a minute from one source address; bursts of a third of it. */
  logins_per_minute_per_source?: number;
  /** The same for one user name, all sources together. */
  logins_per_minute_per_user?: number;
  /** How long `power status` may answer from the cache while vCenter is unreachable. */
  max_staleness_s: number;
  /** The VM's serial port is esxkit's vSPC port ([console] proxy_uri); needs a [console] section. */
  serial: boolean;
}

export interface RedfishConfig {
  /** "host:port" of the one HTTPS listener for every system. */
  listen: string;
  username: string;
  password: string;
  /** PEM paths; when absent a self-signed pair is generated once into state_dir. */
  tls_cert?: string;
  tls_key?: string;
  /** Where inserted images are uploaded; default the datastore of the VM's vmx. */
  media_datastore?: string;
  session_timeout_s: number;
  max_sessions: number;
  /** How long InsertMedia holds the request before answering 202 with a task monitor. */
  media_wait_s: number;
}

/** esxkit as the vSPC (virtual serial port concentrator) that ESXi hosts dial for VMs' serial ports. */
export interface ConsoleConfig {
  /** "host:port" the vSPC listens on (the port defaulted to 13370 when the file gives only a host). */
  listen: string;
  /**
   * What the VMs' hosts dial: "telnet://host:port" or "telnets://host:port[#thumbprint=HEX]",
   * written as proxyURI into each esxkit serial port. Set whenever a [[bmc]] has serial = true.
   */
  proxy_uri?: string;
  /** PEM paths (absolute); both or neither. With them the listener speaks TLS (telnets://). */
  tls_cert?: string;
  tls_key?: string;
  /** Per-VM console log file cap before it is rotated. */
  log_max_bytes: number;
  /** Rotated log files kept per VM. */
  log_files: number;
  /** In-memory scrollback per VM. */
  ring_bytes: number;
  /** Concurrent vSPC connections (VMs and vMotion peers) at most. */
  max_connections: number;
}

export interface SlpConfig {
  name: string;
  host: string;
  urls: string[];
  lifetime: number;
  profile?: "lsi-msm";
  attributes_file?: string;
  /** Per-key overrides of the profile or file: tag → values. */
  attributes: Record<string, string[]>;
  vmware_infrastructure: boolean;
  interfaces: string[];
  scopes: string[];
  port: number;
  tcp: boolean;
  allow: string[];
  /** Requests per second each source address may send (token bucket; default 10). */
  rate_per_source?: number;
  /** Bucket size: requests a source may send in a burst (default 20). */
  rate_burst?: number;
  /** Cap on reply bytes per second over all sources, the amplification bound (default 262144). */
  reply_bytes_per_s?: number;
}

export interface WatchdogConfig {
  name: string;
  vm: string;
  hosts: string[];
  /** TCP probe of the protected VM itself, "address:port". */
  vm_probe?: string;
  isolation_addresses: string[];
  probe_interval_ms: number;
  probe_timeout_ms: number;
  misses_to_fail: number;
  successes_to_recover: number;
  cooldown_s: number;
  max_failovers_per_hour: number;
  fence_timeout_s: number;
  lock_retry_s: number;
  /** How long a failover claim on the VM's datastore holds off other esxkit instances. */
  claim_ttl_s: number;
  dry_run: boolean;
  webhook?: string;
  command?: string[];
  /** The host esxkit itself runs on, when esxkit is a VM (anti-affinity). */
  self_host?: string;
  /** A [vcenter.NAME] to post failover events to once it answers again (often the protected VM). */
  vcenter?: string;
}

export interface Config {
  /** Absolute path of the file this came from. */
  file: string;
  daemon: DaemonConfig;
  vcenter: Record<string, VcenterConfig>;
  esxi: Record<string, EsxiConfig>;
  bmc: BmcConfig[];
  redfish?: RedfishConfig;
  console?: ConsoleConfig;
  slp: SlpConfig[];
  watchdog: WatchdogConfig[];
  /** Warnings found while loading (e.g. inline secrets in a world-readable file). */
  warnings: string[];
}
