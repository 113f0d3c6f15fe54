// Credentials: X-Auth-Token (a session) or HTTP Basic. Failed attempts count against the
// source address (login-limiter.ts); a locked-out source is refused before its password is
// even compared. Passwords are compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import { RedfishRequestError } from "../errors.ts";
import type { ServiceEnv } from "./context.ts";
import type { Session } from "./sessions.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function credentialsMatch(env: ServiceEnv, user: string, password: string): boolean {
  const okUser = timingSafeEqual(digest(user), digest(env.credentials.username));
  const okPass = timingSafeEqual(digest(password), digest(env.credentials.password));
  return okUser && okPass;
}

export const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Basic realm="esxkit Redfish", charset="UTF-8"' };

function unauthorized(msg: string): RedfishRequestError {
  return new RedfishRequestError(401, "NoValidSession", msg, { headers: WWW_AUTHENTICATE });
}

export function lockedOut(env: ServiceEnv, source: string): RedfishRequestError | undefined {
  const wait = env.limiter.retryAfter(source);
  if (wait === 0) return undefined;
  return new RedfishRequestError(429, "ServiceTemporarilyUnavailable", `Too many failed logins from this address; retry in ${wait} s.`, { args: [String(wait)], headers: { "Retry-After": String(wait) } });
}

/** The authenticated user (and session), or a 401/429 to answer. */
export function authenticate(env: ServiceEnv, headers: Headers, source: string): { user: string; session?: Session } {
  const token = headers.get("x-auth-token");
  if (token !== null) {
    const s = env.sessions.touch(token);
    if (s) return { user: s.user, session: s };
    // A stale token is what every client has after an idle timeout: not a guess to count.
    throw unauthorized("The session token is invalid or has expired; log in again.");
  }
  const auth = headers.get("authorization");
  if (auth === null) throw unauthorized("This resource needs credentials: HTTP Basic or an X-Auth-Token from SessionService/Sessions.");
  const locked = lockedOut(env, source);
  if (locked) throw locked;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  const decoded = m ? Buffer.from(m[1] as string, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon < 0 || !credentialsMatch(env, decoded.slice(0, colon), decoded.slice(colon + 1))) {
    env.limiter.failed(source);
    throw unauthorized("The user name or password is wrong.");
  }
  return { user: decoded.slice(0, colon) };
}
