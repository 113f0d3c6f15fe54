// Every error esxkit raises, in one module (the undici lib/core/errors.js pattern).
// Each class has a stable `code`; callers branch on `code`, never on message text.
// This module is a leaf: it imports nothing from the project.

export class EsxkitError extends Error {
  code = "ESX_ERR";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EsxkitError";
  }
}

// ---------------------------------------------------------------- config / CLI

/** A config problem with its place: file, line, key path, and a caret under the offending text. */
export class ConfigError extends EsxkitError {
  override code = "ESX_CONFIG";
  constructor(
    readonly detail: string,
    readonly file: string,
    readonly line: number | undefined,
    readonly keyPath: string | undefined,
    readonly codeblock = "",
  ) {
    const where = line ? `${file}:${line}` : file;
    const path = keyPath ? ` ${keyPath}:` : "";
    super(`${where}:${path} ${detail}${codeblock ? `\n${codeblock}` : ""}`);
    this.name = "ConfigError";
  }
  /** Further problems found in the same file, reported together with this one. */
  others: ConfigError[] = [];
  /** Every problem, this one first, each formatted with its place. */
  get all(): ConfigError[] {
    return [this, ...this.others];
  }
}

/** A secret reference (env:, file:, credential:) that cannot be resolved. Never carries the value. */
export class SecretError extends EsxkitError {
  override code = "ESX_SECRET";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretError";
  }
}

/** Bad command-line usage: unknown flag, missing argument. Exit code 2. */
export class UsageError extends EsxkitError {
  override code = "ESX_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** `install-service` will not write the unit: the file exists, or the unit could not run the binary. Exit code 1. */
export class InstallError extends EsxkitError {
  override code = "ESX_INSTALL";
  constructor(message: string) {
    super(message);
    this.name = "InstallError";
  }
}

// ---------------------------------------------------------------- network (shared)

/** A call that did not finish within its deadline. */
export class DeadlineError extends EsxkitError {
  override code = "ESX_DEADLINE";
  constructor(
    readonly what: string,
    readonly ms: number,
    options?: { cause?: unknown },
  ) {
    super(`${what}: no answer within ${ms} ms`, options);
    this.name = "DeadlineError";
  }
}

/** The peer could not be reached: refused, reset, unreachable, DNS failure. */
export class ConnectError extends EsxkitError {
  override code = "ESX_CONNECT";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectError";
  }
}

/** TLS chain or name verification failed (no pin configured). */
export class TlsVerifyError extends EsxkitError {
  override code = "ESX_TLS_VERIFY";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TlsVerifyError";
  }
}

/** The server certificate does not match the configured thumbprint. */
export class TlsPinError extends EsxkitError {
  override code = "ESX_TLS_PIN";
  constructor(
    readonly expected: string,
    readonly actualSha256: string,
    readonly actualSha1: string,
  ) {
    super(`server certificate does not match the pinned thumbprint (got SHA-256 ${actualSha256})`);
    this.name = "TlsPinError";
  }
}

// ---------------------------------------------------------------- vSphere

export class HttpStatusError extends EsxkitError {
  override code = "ESX_HTTP_STATUS";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpStatusError";
  }
}

/** Input that is not well-formed XML, or uses a feature we refuse (DOCTYPE). */
export class XmlError extends EsxkitError {
  override code = "ESX_XML";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "XmlError";
  }
}

/** A value that cannot be written into a SOAP request (XML-forbidden character, bad element name, NaN). */
export class SoapEncodeError extends EsxkitError {
  override code = "ESX_SOAP_ENCODE";
  constructor(message: string) {
    super(message);
    this.name = "SoapEncodeError";
  }
}

/** A well-formed XML answer that is not a usable SOAP response (no soapenv:Envelope, empty Body). */
export class SoapProtocolError extends EsxkitError {
  override code = "ESX_SOAP_PROTOCOL";
  constructor(message: string) {
    super(message);
    this.name = "SoapProtocolError";
  }
}

/** A SOAP fault from vCenter/ESXi. `faultType` is the vim25 fault name (NotAuthenticated, FileLocked, …). */
export class SoapFaultError extends EsxkitError {
  override code = "ESX_SOAP_FAULT";
  constructor(
    readonly faultType: string,
    readonly faultString: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(`${faultType}: ${faultString}`);
    this.name = "SoapFaultError";
  }
}

/** A vSphere task that ended in error. `faultType` as for SoapFaultError. */
export class TaskFailedError extends EsxkitError {
  override code = "ESX_TASK_FAILED";
  constructor(
    readonly task: string,
    readonly faultType: string,
    readonly faultMessage: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(`task ${task} failed: ${faultType}: ${faultMessage}`);
    this.name = "TaskFailedError";
  }
}

export class NotFoundError extends EsxkitError {
  override code = "ESX_NOT_FOUND";
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

export class AmbiguousError extends EsxkitError {
  override code = "ESX_AMBIGUOUS";
  constructor(
    message: string,
    readonly candidates: string[],
  ) {
    super(message);
    this.name = "AmbiguousError";
  }
}

// ---------------------------------------------------------------- IPMI

/** A malformed IPMI/RMCP packet. The BMC drops it or answers 0xC7/0xCC. */
export class IpmiDecodeError extends EsxkitError {
  override code = "ESX_IPMI_DECODE";
  constructor(message: string) {
    super(message);
    this.name = "IpmiDecodeError";
  }
}

/** An IPMI command answered with a non-zero completion code (client side). */
export class IpmiCompletionError extends EsxkitError {
  override code = "ESX_IPMI_COMPLETION";
  constructor(
    readonly completionCode: number,
    message: string,
  ) {
    super(message);
    this.name = "IpmiCompletionError";
  }
}

/** Session establishment failed (RAKP status, wrong password, unsupported cipher suite). */
export class IpmiAuthError extends EsxkitError {
  override code = "ESX_IPMI_AUTH";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "IpmiAuthError";
  }
}

// ---------------------------------------------------------------- BMC

/**
 * A VM backend could not carry out a BMC action. `reason` picks the IPMI completion code:
 * unsupported → 0xD6, invalid_state → 0xD5, unavailable (vCenter unreachable, stale cache) → 0xC3,
 * busy → 0xC0.
 */
export class BmcBackendError extends EsxkitError {
  override code = "ESX_BMC_BACKEND";
  constructor(
    readonly reason: "unsupported" | "invalid_state" | "unavailable" | "busy",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BmcBackendError";
  }
}

/** A file under state_dir could not be written (permissions, read-only mount, disk full). */
export class StateWriteError extends EsxkitError {
  override code = "ESX_STATE_WRITE";
  constructor(
    readonly path: string,
    /** The errno code, e.g. "EACCES", "EROFS", "ENOSPC". */
    readonly errno: string,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write ${what} ${path} (${errno})`, options);
    this.name = "StateWriteError";
  }
}

// ---------------------------------------------------------------- Redfish

/**
 * A Redfish request that gets an error answer: `status` is the HTTP status, `messageId` a
 * Base registry message (e.g. "PropertyUnknown"), `args` its arguments. Never carries a secret.
 */
export class RedfishRequestError extends EsxkitError {
  override code = "ESX_REDFISH";
  constructor(
    readonly status: number,
    readonly messageId: string,
    message: string,
    readonly extra: { args?: string[]; headers?: Record<string, string>; property?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RedfishRequestError";
  }
}

// ---------------------------------------------------------------- virtual media

/** The image URL is not one esxkit can fetch (not http/https, malformed). Redfish: 400. */
export class MediaUrlError extends EsxkitError {
  override code = "ESX_MEDIA_URL";
  constructor(message: string) {
    super(message);
    this.name = "MediaUrlError";
  }
}

/**
 * Fetching the image failed: the server answered an HTTP error (`status`), refused, never
 * answered, stalled between chunks, or failed TLS verification. Redfish: 502. The message
 * names the URL without its credentials.
 */
export class MediaSourceError extends EsxkitError {
  override code = "ESX_MEDIA_SOURCE";
  constructor(
    readonly reason: "http_status" | "connect" | "timeout" | "idle" | "tls" | "truncated",
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MediaSourceError";
  }
}

/** The slot is busy: an insert or eject is running, or another image is inserted (eject first). Redfish: 409. */
export class MediaBusyError extends EsxkitError {
  override code = "ESX_MEDIA_BUSY";
  constructor(message: string) {
    super(message);
    this.name = "MediaBusyError";
  }
}

/** The VM's device holds media esxkit did not insert; esxkit leaves it alone. Redfish: 409. */
export class MediaForeignError extends EsxkitError {
  override code = "ESX_MEDIA_FOREIGN";
  constructor(message: string) {
    super(message);
    this.name = "MediaForeignError";
  }
}

/** The datastore side failed: datastore not found, upload refused or stalled, no space. Redfish: 500/503. */
export class MediaDatastoreError extends EsxkitError {
  override code = "ESX_MEDIA_DATASTORE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MediaDatastoreError";
  }
}

/** The machine does not offer this slot (slots() lists those it does). Redfish: 404/400. */
export class MediaSlotError extends EsxkitError {
  override code = "ESX_MEDIA_SLOT";
  constructor(message: string) {
    super(message);
    this.name = "MediaSlotError";
  }
}

// ---------------------------------------------------------------- telnet / vSPC

/** A telnet or VMware option-232 message that cannot be read; `reason` is a stable short tag for the log. */
export class TelnetDecodeError extends EsxkitError {
  override code = "ESX_TELNET_DECODE";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "TelnetDecodeError";
  }
}

// ---------------------------------------------------------------- SLP

/** A malformed or refused SLP message; `reason` is a stable short tag used for drop counters. */
export class SlpDecodeError extends EsxkitError {
  override code = "ESX_SLP_DECODE";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "SlpDecodeError";
  }
}

/** An attribute list, tag list or LDAPv3 predicate that does not parse; `offset` is where it went wrong. */
export class SlpSyntaxError extends EsxkitError {
  override code = "ESX_SLP_SYNTAX";
  constructor(
    readonly what: string,
    readonly detail: string,
    readonly offset: number,
  ) {
    super(`${what}: ${detail} at offset ${offset}`);
    this.name = "SlpSyntaxError";
  }
}

/** An SLP agent answered with a non-zero error code (user-agent side). */
export class SlpReplyError extends EsxkitError {
  override code = "ESX_SLP_REPLY";
  constructor(
    readonly slpError: number,
    message: string,
  ) {
    super(message);
    this.name = "SlpReplyError";
  }
}

// ---------------------------------------------------------------- watchdog / daemon

export class FenceError extends EsxkitError {
  override code = "ESX_FENCE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FenceError";
  }
}

/** A BMC that is not (or cannot be shown to be) its host's: esxkit refuses to fence through it. */
export class BmcIdentityError extends EsxkitError {
  override code = "ESX_BMC_IDENTITY";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BmcIdentityError";
  }
}

/**
 * A failover step that could not be carried out. `reason` is a stable tag:
 * bad_path, no_datastore, no_candidate, lock_timeout, question, not_learned, aborted.
 */
export class FailoverError extends EsxkitError {
  override code = "ESX_FAILOVER";
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FailoverError";
  }
}

/** A socket could not be bound (the daemon retries it); `errno` is the OS's code (EADDRINUSE …). */
export class BindError extends EsxkitError {
  override code = "ESX_BIND";
  readonly errno: string | undefined;
  constructor(message: string, errno: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BindError";
    this.errno = errno;
  }
}

/** `esxkit serve` cannot run (e.g. not one configured service could start). */
export class ServeError extends EsxkitError {
  override code = "ESX_SERVE";
  constructor(message: string) {
    super(message);
    this.name = "ServeError";
  }
}

export class ControlError extends EsxkitError {
  override code = "ESX_CONTROL";
  /** A rejected reload's config problems (each with its place and code block), as the daemon showed them. */
  readonly problems?: { shown: string[]; total: number }; // config/report.ts's ShownProblems
  constructor(message: string, options?: { cause?: unknown; problems?: { shown: string[]; total: number } }) {
    super(message, options);
    this.name = "ControlError";
    this.problems = options?.problems;
  }
}

/** The `code` of any error, ours or Node's (ECONNREFUSED …), or undefined. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

// ---------------------------------------------------------------- serial console

/**
 * The VM has a serial port esxkit did not create (named in the message, and in `ports` by
 * label); esxkit never changes it, so it cannot attach its own console port either.
 */
export class SerialPortForeignError extends EsxkitError {
  override code = "ESX_SERIAL_FOREIGN";
  constructor(
    message: string,
    readonly ports: string[],
  ) {
    super(message);
    this.name = "SerialPortForeignError";
  }
}
