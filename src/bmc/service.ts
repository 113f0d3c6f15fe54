// One virtual BMC: an IPMI session engine bound to address:port, answering with the
// command table over a VmBackend. The daemon creates one per [[bmc]] entry.
import type { BmcConfig } from "../config/types.ts";
import { BmcBackendError, errorCode } from "../errors.ts";
import { AuthType } from "../ipmi/codes/auth-types.ts";
import { completionCodeName } from "../ipmi/codes/completion.ts";
import { IpmiSessionEngine } from "../ipmi/server/engine.ts";
import { DEFAULT_LOGIN_LIMITS } from "../ipmi/server/login-limits.ts";
import type { EngineOptions, IpmiUser, SolStatus } from "../ipmi/server/types.ts";
import { bindIpmiUdp, type IpmiUdpBinding } from "../ipmi/server/udp.ts";
import type { Logger } from "../log/logger.ts";
import { type BoundCounter, metrics } from "../log/metrics.ts";
import { bindError } from "../net/bind-error.ts";
import { type ActionOutcome, BmcActionQueue } from "./action-queue.ts";
import type { VmBackend } from "./backend.ts";
import type { BmcCommandContext } from "./commands/context.ts";
import { createCommandHandler, requiredPrivilege } from "./commands/index.ts";
import type { MachineConsole } from "./console/machine-console.ts";
import { createIdentity, formatMac } from "./identity.ts";
import { lanAddressFor } from "./lan-address.ts";

/** The LAN channel every esxkit BMC is; Auth Capabilities, Channel Info and Access agree on it. */
export const BMC_CHANNEL = 1;
/** How often idle and half-open sessions are looked for (an abandoned login is reported then). */
const SWEEP_INTERVAL_MS = 5000;

const PRIVILEGE: Record<BmcConfig["privilege"], 2 | 3 | 4> = { user: 2, operator: 3, administrator: 4 };

const requests = metrics.counter("esxkit_ipmi_requests_total", "IPMI requests answered by virtual BMCs, by command and result.");
/** One bound series per (command, completion code): the labels are rendered once, not per request. */
const requestSeries = new Map<string, BoundCounter>();
function countRequest(command: string, cc: number): void {
  const k = `${command}|${cc}`;
  let b = requestSeries.get(k);
  if (!b) {
    b = requests.labels({ command, result: cc === 0 ? "ok" : `0x${cc.toString(16).padStart(2, "0")}` });
    requestSeries.set(k, b);
  }
  b.inc();
}
const sessionsGauge = metrics.gauge("esxkit_ipmi_sessions", "Authenticated IPMI sessions on each virtual BMC (what status calls sessions).");
const pendingGauge = metrics.gauge("esxkit_ipmi_sessions_pending", "IPMI session setups under way (opened, not yet authenticated) on each virtual BMC.");
const solGauge = metrics.gauge("esxkit_ipmi_sol_active", "1 while an IPMI Serial-over-LAN session holds the console of this virtual BMC (BMCs with serial = true).");
const loginFailures = metrics.counter("esxkit_ipmi_login_failures_total", "Refused IPMI session setups on each virtual BMC, by reason (wrong_password, unknown_user, privilege, rate_limited, no_slot, abandoned, protocol).");

export interface BmcServiceDeps {
  backend: VmBackend;
  logger: Logger;
  /** How long a power or boot command waits before answering "accepted". Default 500 ms. */
  ackMs?: number;
  /** The machine's action queue, when another front end (Redfish) shares it. */
  actions?: BmcActionQueue;
  /** Close the backend in stop(). Default false: the creator owns it. */
  ownsBackend?: boolean;
  /** The machine's serial console (serial = true): IPMI SOL attaches to it. */
  console?: MachineConsole;
}

export interface BmcLastCommand {
  name: string;
  cc: number;
  result: string;
  at: string;
  peer: string;
}

export interface BmcStatus {
  name: string;
  vm: string;
  address: string;
  port: number;
  listening: boolean;
  powerState: "on" | "off" | "unknown" | "stale";
  lastCommand?: BmcLastCommand;
  /** Authenticated sessions (the same number as esxkit_ipmi_sessions). */
  sessions: number;
  /** Session setups under way, not yet authenticated (esxkit_ipmi_sessions_pending). */
  pendingSessions: number;
  /** The IPMI Serial-over-LAN payload (BMCs with serial = true). */
  sol?: { active: boolean; user?: string; peer?: string; since?: string; bytes_in: number; bytes_out: number };
}

function solView(s: SolStatus): NonNullable<BmcStatus["sol"]> {
  return {
    active: s.active,
    user: s.user,
    peer: s.peer && `${s.peer.address}:${s.peer.port}`,
    since: s.since === undefined ? undefined : new Date(s.since).toISOString(),
    bytes_in: s.bytesIn,
    bytes_out: s.bytesOut,
  };
}

export interface BmcService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): BmcStatus;
  /** The bound address (after start; useful with port 0). */
  boundAddress(): { address: string; port: number; family: "IPv4" | "IPv6" } | undefined;
  /**
   * Apply a changed config in place: users, privilege, cipher suites, IPMI 1.5, session
   * limits. Returns false (and changes nothing) if the identity or the address changed:
   * the caller then stops this service and creates a new one.
   */
  update(cfg: BmcConfig): boolean;
  /** Wait until queued power/boot actions have finished (tests, shutdown). */
  drain(): Promise<void>;
  /** The GUID and MAC this BMC reports (for `esxkit status` and registering it in vCenter DPM). */
  identity(): { guidText: string; macText: string };
}

function usersOf(cfg: BmcConfig): IpmiUser[] {
  return [{ name: cfg.username, password: cfg.password, maxPrivilege: PRIVILEGE[cfg.privilege] }];
}

function authTypeSupport(cfg: BmcConfig): number {
  if (!cfg.ipmi15) return 0;
  let mask = 1 << AuthType.md5;
  if (cfg.allow_insecure_auth) mask |= (1 << AuthType.none) | (1 << AuthType.straightPassword);
  return mask;
}

function engineSettings(cfg: BmcConfig): Partial<EngineOptions> {
  return {
    users: usersOf(cfg),
    cipherSuites: [...cfg.cipher_suites],
    ipmi15: cfg.ipmi15,
    allowInsecureAuth: cfg.allow_insecure_auth,
    maxSessions: cfg.max_sessions,
    sessionTimeoutMs: cfg.session_timeout_s * 1000,
    loginLimits: {
      perSourcePerMinute: cfg.logins_per_minute_per_source ?? DEFAULT_LOGIN_LIMITS.perSourcePerMinute,
      perUserPerMinute: cfg.logins_per_minute_per_user ?? DEFAULT_LOGIN_LIMITS.perUserPerMinute,
    },
  };
}

/** Keys that make a BMC a different BMC (new identity or a new socket). */
function identityKey(cfg: BmcConfig): string {
  return JSON.stringify([cfg.name, cfg.vm, cfg.vcenter, cfg.mac ?? null, cfg.address, cfg.port]);
}

export function createBmcService(initial: BmcConfig, deps: BmcServiceDeps): BmcService {
  let cfg = initial;
  const logger = deps.logger.child("bmc", { bmc: cfg.name });
  const identity = createIdentity({ name: cfg.name, vcenter: cfg.vcenter, vm: cfg.vm, mac: cfg.mac });
  // Kept raw per request; the status shape (with an ISO time) is built when status is asked for.
  let lastCommand: { name: string; cc: number; atMs: number; peer: string } | undefined;
  let binding: IpmiUdpBinding | undefined;
  let stopCollecting: (() => void) | undefined;
  let sweepTimer: ReturnType<typeof setInterval> | undefined;

  const onOutcome = (o: ActionOutcome) => {
    if (!o.key.startsWith("power:")) return;
    // A refusal (D5h/D6h) is not a power control fault; a failed attempt is.
    const refused = errorCode(o.error) === "ESX_BMC_BACKEND" && (o.error as BmcBackendError).reason !== "unavailable";
    ctx.chassis.powerControlFault = !o.ok && !refused;
  };

  const ctx: BmcCommandContext = {
    backend: deps.backend,
    identity,
    actions: deps.actions ?? new BmcActionQueue({ ackMs: deps.ackMs, logger }),
    channel: BMC_CHANNEL,
    privilegeLimit: PRIVILEGE[cfg.privilege],
    authTypeSupport: authTypeSupport(cfg),
    cipherSuites: [...cfg.cipher_suites],
    sessionCount: () => engine.activeSessionCount(),
    lanAddress: (peer) => lanAddressFor(cfg.address, peer),
    chassis: { lastPowerOnViaIpmi: false, powerControlFault: false, restartCause: 0, restartChannel: 0 },
    boot: { setInProgress: 0, validBitClearing: 0, bootInfoAck: 0 },
    logger,
  };

  ctx.actions.addOutcomeListener(onOutcome);

  const handler = createCommandHandler(ctx, (req, res, name) => {
    countRequest(name, res.cc);
    lastCommand = { name, cc: res.cc, atMs: Date.now(), peer: req.source.address };
    if (logger.enabled("debug")) logger.debug("ipmi command", { command: name, cc: res.cc, data: Buffer.from(req.data).toString("hex"), peer: req.source.address, user: req.session?.user });
  });

  const engine = new IpmiSessionEngine({
    ...engineSettings(cfg),
    users: usersOf(cfg),
    guid: identity.guid,
    channel: BMC_CHANNEL,
    handler,
    logger,
    requiredPrivilege,
    onLoginFailure: (f) => loginFailures.inc({ bmc: cfg.name, reason: f.reason }),
    sol: deps.console ? { open: () => deps.console?.openWatcher("sol", "IPMI SOL") } : undefined,
  });

  // One count, read where it is shown: status, Get Channel Info and /metrics all ask the engine.
  const sessionCounts = () => {
    const active = engine.activeSessionCount();
    return { active, pending: engine.sessionCount() - active };
  };
  const updateGauges = () => {
    const c = sessionCounts();
    sessionsGauge.set({ bmc: cfg.name }, c.active);
    pendingGauge.set({ bmc: cfg.name }, c.pending);
    if (deps.console) solGauge.set({ bmc: cfg.name }, engine.solStatus().active ? 1 : 0);
  };

  return {
    name: cfg.name,

    async start() {
      if (binding) return;
      try {
        binding = await bindIpmiUdp(cfg.address, cfg.port, engine);
      } catch (err) {
        // The daemon logs it (once per distinct error) and retries.
        throw bindError({ address: cfg.address, port: cfg.port, transport: "udp", holders: "another process or another [[bmc]] holds it" }, err);
      }
      const a = binding.address();
      logger.info("BMC listening", { address: a.address, port: a.port, vm: deps.backend.describe(), guid: identity.guidText });
      updateGauges();
      stopCollecting = metrics.onCollect(updateGauges);
      // The engine expires sessions lazily; without traffic, a wrong password would go unreported.
      sweepTimer = setInterval(() => engine.sessionCount(), SWEEP_INTERVAL_MS);
      sweepTimer.unref?.();
    },

    async stop() {
      stopCollecting?.();
      stopCollecting = undefined;
      clearInterval(sweepTimer);
      sweepTimer = undefined;
      const b = binding;
      binding = undefined;
      engine.closeAll();
      sessionsGauge.delete({ bmc: cfg.name });
      pendingGauge.delete({ bmc: cfg.name });
      solGauge.delete({ bmc: cfg.name });
      if (b) await b.close();
      if (deps.ownsBackend) await deps.backend.close();
      logger.info("BMC stopped");
    },

    status() {
      const p = deps.backend.powerState({ peek: true });
      const c = sessionCounts();
      const a = binding?.address();
      return {
        name: cfg.name,
        vm: deps.backend.describe(),
        address: a?.address ?? cfg.address,
        port: a?.port ?? cfg.port,
        listening: binding !== undefined,
        powerState: p.state === "unknown" || p.fresh ? p.state : "stale",
        lastCommand: lastCommand && describeLastCommand(lastCommand),
        sessions: c.active,
        pendingSessions: c.pending,
        ...(deps.console ? { sol: solView(engine.solStatus()) } : {}),
      };
    },

    boundAddress() {
      return binding?.address();
    },

    update(next) {
      if (identityKey(next) !== identityKey(cfg)) return false;
      cfg = next;
      engine.updateOptions(engineSettings(next));
      ctx.privilegeLimit = PRIVILEGE[next.privilege];
      ctx.authTypeSupport = authTypeSupport(next);
      ctx.cipherSuites = [...next.cipher_suites];
      logger.info("BMC settings updated");
      return true;
    },

    drain() {
      return ctx.actions.drain();
    },

    identity() {
      return { guidText: identity.guidText, macText: formatMac(identity.mac) };
    },
  };
}

function describeLastCommand(c: { name: string; cc: number; atMs: number; peer: string }): BmcLastCommand {
  return { name: c.name, cc: c.cc, result: c.cc === 0 ? "ok" : completionCodeName(c.cc), at: new Date(c.atMs).toISOString(), peer: c.peer };
}
