// SessionService and Sessions: POST logs in (X-Auth-Token + Location), DELETE logs out.
import { RedfishRequestError } from "../../errors.ts";
import { credentialsMatch, lockedOut, WWW_AUTHENTICATE } from "../auth.ts";
import type { RequestContext, Route } from "../context.ts";
import { checkKeys, collection, link, resource, ROOT } from "../json.ts";
import { fail } from "../messages.ts";
import type { Session } from "../sessions.ts";

const SESSIONS = `${ROOT}/SessionService/Sessions`;

function sessionBody(s: Session) {
  return resource("#Session.v1_4_0.Session", `${SESSIONS}/${s.id}`, s.id, "User session", { UserName: s.user, CreatedTime: new Date(s.createdAt).toISOString(), SessionType: "Redfish" });
}

function login(ctx: RequestContext) {
  const body = checkKeys(ctx.body ?? {}, ["UserName", "Password", "Oem", "Context"]);
  for (const k of ["UserName", "Password"]) {
    if (body[k] === undefined) throw new RedfishRequestError(400, "PropertyMissing", `The property ${k} is required to create a session.`, { args: [k], property: k });
    if (typeof body[k] !== "string") throw fail.typeError(k, k === "Password" ? "…" : body[k], "a string");
  }
  const locked = lockedOut(ctx.env, ctx.source);
  if (locked) throw locked;
  if (!credentialsMatch(ctx.env, body.UserName as string, body.Password as string)) {
    ctx.env.limiter.failed(ctx.source);
    ctx.env.logger.warn("Redfish login failed", { user: String(body.UserName).slice(0, 64), peer: ctx.source });
    throw new RedfishRequestError(401, "ResourceAtUriUnauthorized", "The user name or password is wrong.", { args: [SESSIONS, "Unauthorized"], headers: WWW_AUTHENTICATE });
  }
  const created = ctx.env.sessions.create(body.UserName as string, ctx.source);
  if (!created) throw new RedfishRequestError(503, "SessionLimitExceeded", "The session establishment failed because the number of simultaneous sessions exceeded the limit of the implementation.");
  ctx.env.logger.info("Redfish session opened", { user: created.session.user, peer: ctx.source, session: created.session.id });
  const uri = `${SESSIONS}/${created.session.id}`;
  return { status: 201, body: sessionBody(created.session), headers: { "X-Auth-Token": created.token, Location: uri }, etag: true };
}

function find(ctx: RequestContext): Session {
  const s = ctx.env.sessions.get(ctx.params.id as string);
  if (!s) throw fail.notFound(ctx.path);
  return s;
}

export const sessionRoutes: Route[] = [
  {
    pattern: `${ROOT}/SessionService`,
    name: "SessionService",
    methods: {
      GET: (ctx) => ({
        body: resource("#SessionService.v1_1_8.SessionService", `${ROOT}/SessionService`, "SessionService", "Session Service", {
          ServiceEnabled: true,
          SessionTimeout: ctx.env.sessions.timeoutSeconds,
          Sessions: link(SESSIONS),
          Status: { State: "Enabled", Health: "OK" },
        }),
      }),
    },
  },
  {
    pattern: SESSIONS,
    name: "Sessions",
    public: ["POST"],
    methods: {
      GET: (ctx) => ({ body: collection("#SessionCollection.SessionCollection", SESSIONS, "Sessions", ctx.env.sessions.list().map((s) => `${SESSIONS}/${s.id}`)) }),
      POST: login,
    },
  },
  {
    pattern: `${SESSIONS}/:id`,
    name: "Session",
    methods: {
      GET: (ctx) => ({ body: sessionBody(find(ctx)) }),
      DELETE: (ctx) => {
        const s = find(ctx);
        ctx.env.sessions.delete(s.id);
        ctx.env.logger.info("Redfish session closed", { user: s.user, peer: ctx.source, session: s.id });
        return { status: 204 };
      },
    },
  },
];
