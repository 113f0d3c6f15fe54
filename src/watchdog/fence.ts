// Fencing a failed host through its physical BMC: `chassis power off`, then status polls until
// fresh reads confirm "off", all within fence_timeout_s. Never `power cycle`: it may report
// success before the host is off. A host already off counts as fenced (after the same
// confirmation reads). Without a confirmed fence there is no failover.
import type { PhysicalBmcConfig } from "../config/types.ts";
import { BmcIdentityError, FenceError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";

/** The two IPMI operations fencing needs, on one open session. */
export interface ChassisSession {
  /** Get Chassis Status: is the system powered on? */
  powerIsOn(): Promise<boolean>;
  /** Chassis Control "power down". */
  powerOff(): Promise<void>;
  /** The BMC's System GUID (bmc-identity.ts); absent on sessions that cannot tell. */
  systemGuid?(): Promise<BmcGuid>;
  close(): Promise<void>;
}

/** 16 GUID bytes as the BMC sent them, and which exchange they came from. */
export interface BmcGuid {
  bytes: Uint8Array;
  source: "get_system_guid" | "rakp2";
}

/** Opens a session to a BMC (cipher suite per config, falling back from 17 to 3). */
export type OpenChassis = (bmc: PhysicalBmcConfig, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<ChassisSession>;

export interface FenceOptions {
  open: OpenChassis;
  timeoutMs: number;
  /** Pause between status polls. Default 500 ms. */
  pollMs?: number;
  /** Consecutive "off" reads that confirm the fence. Default 2. */
  confirmReads?: number;
  /** A host still reading "on" this long after a power off gets the command again. Default 5 s. */
  resendOffMs?: number;
  /** Deadline of one IPMI exchange (session setup or command). Default 5 s. */
  callTimeoutMs?: number;
  logger: Logger;
  /**
   * Called once on the first session, before any power command: throws BmcIdentityError when the
   * BMC turns out not to be the host's. The fence is then refused, never retried on that BMC.
   */
  verify?: (session: ChassisSession) => Promise<void>;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FenceResult {
  /** The host was off before esxkit asked. */
  alreadyOff: boolean;
  /** Power-off commands sent. */
  offCommands: number;
  /** Status reads made. */
  reads: number;
  elapsedMs: number;
}

export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Power the host off through `bmc` and confirm it. Throws FenceError when unconfirmed in time. */
export async function fenceHost(bmc: PhysicalBmcConfig, o: FenceOptions): Promise<FenceResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const pollMs = o.pollMs ?? 500;
  const confirmReads = o.confirmReads ?? 2;
  const callTimeout = o.callTimeoutMs ?? 5000;
  const resendOffMs = o.resendOffMs ?? 5000;
  let lastOffAt: number | undefined;
  const start = now();
  const deadline = start + o.timeoutMs;
  const result: FenceResult = { alreadyOff: false, offCommands: 0, reads: 0, elapsedMs: 0 };
  const where = `${bmc.address}:${bmc.port}`;
  let session: ChassisSession | undefined;
  let offReads = 0;
  let verified = false;
  let lastError: unknown;
  const remaining = () => deadline - now();
  const closeSession = async () => {
    const s = session;
    session = undefined;
    await s?.close().catch(() => undefined);
  };
  try {
    while (remaining() > 0) {
      if (o.signal?.aborted) throw new FenceError(`fencing ${where} aborted`, { cause: o.signal.reason });
      try {
        const budget = Math.max(1, Math.min(callTimeout, remaining()));
        if (!session) {
          session = await o.open(bmc, { timeoutMs: budget, signal: o.signal });
          if (o.verify && !verified) {
            await o.verify(session);
            verified = true;
          }
        }
        const on = await withDeadline(session.powerIsOn(), Math.max(1, Math.min(callTimeout, remaining())), `${where} chassis status`);
        result.reads++;
        if (on) {
          offReads = 0;
          // Servers take a moment to drop power: poll, and repeat the command only if it seems lost.
          if (lastOffAt !== undefined && now() - lastOffAt < resendOffMs) {
            await sleep(Math.min(pollMs, Math.max(0, remaining())), o.signal).catch(() => undefined);
            continue;
          }
          await withDeadline(session.powerOff(), Math.max(1, Math.min(callTimeout, remaining())), `${where} chassis power off`);
          result.offCommands++;
          lastOffAt = now();
          o.logger.info("chassis power off sent", { bmc: where });
        } else {
          if (result.offCommands === 0 && offReads === 0) result.alreadyOff = true;
          offReads++;
          if (offReads >= confirmReads) {
            result.elapsedMs = now() - start;
            return result;
          }
        }
      } catch (err) {
        if (err instanceof BmcIdentityError) throw err;
        lastError = err;
        offReads = 0;
        o.logger.warn("BMC exchange failed; retrying within the fence timeout", { bmc: where, error: err });
        await closeSession();
      }
      const wait = Math.min(pollMs, remaining());
      if (wait > 0) await sleep(wait, o.signal).catch(() => undefined);
    }
  } finally {
    await closeSession();
  }
  const why = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
  throw new FenceError(`could not confirm that the host behind BMC ${where} is off within ${o.timeoutMs} ms${why}`, { cause: lastError });
}
