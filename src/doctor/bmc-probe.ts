// "Does this BMC answer?" for the watchdog readiness check: an RMCP+ session with the configured
// credentials and one Get Chassis Status, as the watchdog will do before it fences. When that
// fails, one sessionless Get Channel Authentication Capabilities (the first packet every IPMI
// client sends, which every BMC answers without credentials) tells "silent" from "answers, but
// the login or command failed".
import { createSocket } from "node:dgram";
import { isIP } from "node:net";
import type { PhysicalBmcConfig } from "../config/types.ts";
import { errorCode } from "../errors.ts";
import { IpmiClient } from "../ipmi/client/client.ts";
import { authCapabilitiesResponse, authCapabilitiesRequest as ipmiAuthCapabilitiesRequest } from "../ipmi/client/session.ts";
import { PrivilegeLevel } from "../ipmi/codes/privilege.ts";
import type { BmcAnswer } from "./watchdog-facts.ts";

const RESENDS = 3;

/** The probe: Get Channel Authentication Capabilities at administrator level, as ipmitool sends it first. */
export function authCapabilitiesRequest(rqSeq: number): Uint8Array {
  return ipmiAuthCapabilitiesRequest(rqSeq, PrivilegeLevel.administrator);
}

/** The answer's description, or undefined when the datagram is not our response. */
export function describeAuthCapabilities(datagram: Uint8Array, rqSeq: number): string | undefined {
  const m = authCapabilitiesResponse(datagram, rqSeq);
  if (!m) return undefined;
  if (m.cc !== 0) return `answers (Get Channel Authentication Capabilities completion code 0x${m.cc.toString(16).padStart(2, "0")})`;
  const v2 = ((m.data[1] ?? 0) & 0x80) !== 0;
  return `answers (channel ${m.data[0] ?? "?"}, ${v2 ? "IPMI 2.0 / RMCP+" : "IPMI 1.5 only"})`;
}

/** Probe one BMC; resolves within `timeoutMs` and never rejects. */
export function probeBmcAnswers(bmc: Pick<PhysicalBmcConfig, "address" | "port">, timeoutMs: number): Promise<BmcAnswer> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(bmc.address) === 6 ? "udp6" : "udp4");
    const rqSeq = 1 + Math.floor(Math.random() * 62);
    const request = authCapabilitiesRequest(rqSeq);
    const timers: ReturnType<typeof setTimeout>[] = [];
    let lastError: string | undefined;
    let done = false;
    const finish = (answer: BmcAnswer) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(answer);
    };
    socket.on("message", (msg) => {
      const detail = describeAuthCapabilities(new Uint8Array(msg), rqSeq);
      if (detail) finish({ answered: true, detail });
    });
    socket.on("error", (err) => {
      // ICMP port unreachable surfaces as ECONNREFUSED on some platforms: keep waiting for a resend.
      lastError = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    const send = () => {
      if (done) return;
      socket.send(request, bmc.port, bmc.address, (err) => {
        if (err) lastError = (err as NodeJS.ErrnoException).code ?? err.message;
      });
    };
    for (let i = 0; i < RESENDS; i++) timers.push(setTimeout(send, Math.floor((timeoutMs * i) / RESENDS)));
    timers.push(
      setTimeout(
        () => finish({ answered: false, detail: `no IPMI answer within ${timeoutMs} ms${lastError ? ` (${lastError})` : ""}` }),
        timeoutMs,
      ),
    );
  });
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${err.message} [${code}]` : err.message;
}

/**
 * Log in to the BMC as the watchdog would (cipher suite from the config, falling back between 17
 * and 3) and read the chassis status. Resolves within about `timeoutMs` (twice it at worst when
 * the login fails and the sessionless probe runs); never rejects.
 */
export async function probeBmcSession(bmc: PhysicalBmcConfig, timeoutMs: number): Promise<BmcAnswer> {
  const suites = bmc.cipher_suite === 17 ? [17, 3] : [3, 17];
  let client: IpmiClient | undefined;
  try {
    client = await IpmiClient.connect({
      host: bmc.address,
      port: bmc.port,
      username: bmc.username,
      password: bmc.password,
      cipherSuites: suites,
      privilege: bmc.privilege === "operator" ? PrivilegeLevel.operator : PrivilegeLevel.administrator,
      retransmitMs: Math.max(100, Math.floor(timeoutMs / 3)),
      connectTimeoutMs: timeoutMs,
      commandTimeoutMs: timeoutMs,
    });
    const status = await client.chassisStatus();
    const answer: BmcAnswer = { answered: true, detail: `chassis power ${status.powerOn ? "on" : "off"} (RMCP+ cipher suite ${client.cipherSuite.id}, ${bmc.privilege})` };
    // Whose BMC is it? Get System GUID, else the GUID the BMC sent in RAKP2.
    const guid = await client.getSystemGuid().then(
      (bytes) => ({ bytes, source: "get_system_guid" as const }),
      (err) => (errorCode(err) === "ESX_IPMI_COMPLETION" ? { bytes: client?.bmcGuid ?? new Uint8Array(0), source: "rakp2" as const } : undefined),
    );
    if (guid?.bytes.length === 16) Object.assign(answer, { guid: Buffer.from(guid.bytes).toString("hex"), guidSource: guid.source });
    return answer;
  } catch (err) {
    const bare = await probeBmcAnswers(bmc, timeoutMs);
    return { answered: false, detail: bare.answered ? `${bare.detail.replace(/^answers/, "answers IPMI")}, but the session failed: ${reason(err)}` : bare.detail };
  } finally {
    await client?.close(500);
  }
}
