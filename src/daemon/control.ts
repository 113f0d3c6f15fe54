// The local control API: HTTP over a unix socket that only the service user can open
// (the directory is 0700 and the socket 0600), so it needs no token. `esxkit status`,
// `esxkit bmc list` and `esxkit watchdog pause|resume` are its clients.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { ControlError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { clearPause } from "../watchdog/pause.ts";
import type { Daemon } from "./daemon.ts";
import { healthOf } from "./health.ts";
import { type ConsoleSocketData, consoleWebsocket, routeConsole } from "./console-control.ts";

const MAX_PAUSE_MS = 7 * 24 * 3600 * 1000;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

async function readBody(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.length > 4096) throw new ControlError("request body too large");
  if (!text) return {};
  const v = JSON.parse(text) as unknown;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ControlError("expected a JSON object");
  return v as Record<string, unknown>;
}

export interface ControlServer {
  path: string;
  stop(): Promise<void>;
}

export function statusOf(daemon: Daemon, startedAt: string) {
  const health = healthOf(daemon);
  return {
    ok: health.ok,
    summary: health.summary,
    version: VERSION,
    pid: process.pid,
    config: daemon.config?.file,
    started_at: startedAt,
    last_reload: daemon.lastReload,
    services: daemon.services.status(),
    /** Services that are down now (each is being retried). */
    failed: daemon.failed,
    connections: health.connections,
  };
}

async function route(daemon: Daemon, startedAt: string, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case "GET /v1/status":
      return json(statusOf(daemon, startedAt));
    case "GET /v1/bmc":
      return json(daemon.services.status().filter((s) => s.kind === "bmc"));
    case "POST /v1/reload": {
      const result = await daemon.reload();
      if (!result) {
        // The headline and the problems apart, so the CLI prints them as `config check` does.
        const r = daemon.lastReload;
        return json({ ok: false, error: "reload rejected: the new config is invalid; the daemon keeps the running one", problems: r?.problems, problem_count: r?.problem_count }, 409);
      }
      return json({ ok: result.failed.length === 0, ...result });
    }
    case "POST /v1/watchdog/pause":
    case "POST /v1/watchdog/resume": {
      const body = await readBody(req);
      const name = typeof body.name === "string" ? body.name : undefined;
      const forMs = body.for_ms === undefined ? undefined : Number(body.for_ms);
      if (forMs !== undefined && (!Number.isFinite(forMs) || forMs <= 0 || forMs > MAX_PAUSE_MS)) {
        return json({ error: `for_ms must be between 1 and ${MAX_PAUSE_MS}` }, 400);
      }
      const targets = daemon.services.find("watchdog", name);
      if (targets.length === 0) return json({ error: name ? `no watchdog named "${name}"` : "no watchdog is configured" }, 404);
      for (const t of targets) {
        if (key.endsWith("pause")) t.service.pause?.(forMs);
        else t.service.resume?.();
      }
      // "Resume all" also lifts a hand-written global pause file (<state_dir>/watchdog/pause).
      if (key.endsWith("resume") && !name && daemon.config) clearPause(daemon.config.daemon.state_dir, undefined);
      return json({ ok: true, watchdogs: targets.map((t) => t.name) });
    }
    default:
      return json({ error: `no such endpoint: ${key}` }, 404);
  }
}

/** Is a daemon answering on this socket? (A socket file alone may be left by a crash.) */
export async function controlSocketAnswers(path: string): Promise<boolean> {
  try {
    await controlRequest(path, "GET", "/v1/status", undefined, 1000);
    return true;
  } catch {
    return false;
  }
}

/**
 * Listens on `path` (a unix socket). A stale socket file from a crashed run is replaced;
 * one that a running esxkit answers on is not taken over.
 */
export async function startControlServer(path: string, daemon: Daemon, logger: Logger): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (await controlSocketAnswers(path)) throw new ControlError(`another esxkit is already serving on ${path}; stop it or set daemon.control_socket to another path`);
    unlinkSync(path);
  }
  const startedAt = new Date().toISOString();
  const server = Bun.serve<ConsoleSocketData>({
    unix: path,
    websocket: consoleWebsocket,
    async fetch(req, srv) {
      try {
        const consoleReply = routeConsole(req, new URL(req.url), daemon.consoles(), srv);
        if (consoleReply === "upgraded") return undefined as unknown as Response;
        if (consoleReply) return consoleReply;
        return await route(daemon, startedAt, req);
      } catch (err) {
        logger.warn("control request failed", { error: err });
        return json({ error: err instanceof Error ? err.message : String(err) }, 400);
      }
    },
  });
  chmodSync(path, 0o600);
  return {
    path,
    async stop() {
      await server.stop(true);
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Client side: one request to the daemon's control socket, with a deadline. A refused
 * request (4xx/5xx) throws ControlError with the daemon's own error text.
 */
export async function controlFetch(path: string, method: "GET" | "POST", endpoint: string, body?: unknown, timeoutMs = 5000): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`http://esxkit${endpoint}`, {
      method,
      unix: path,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    } as RequestInit);
  } catch (err) {
    // The errno alone: Bun's message for a unix socket adds a hint about URLs and ports.
    const why = (err as NodeJS.ErrnoException | null)?.code ?? (err instanceof Error ? err.message : String(err));
    throw new ControlError(`cannot reach esxkit's control socket ${path}: is \`esxkit serve\` running? (${why})`, { cause: err });
  }
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    const problems = Array.isArray(data.problems) && data.problems.every((p) => typeof p === "string") ? { shown: data.problems as string[], total: Number(data.problem_count) || data.problems.length } : undefined;
    throw new ControlError(String(data.error ?? `HTTP ${res.status}`), { problems });
  }
  return res;
}

/** controlFetch for the JSON endpoints. */
export async function controlRequest(path: string, method: "GET" | "POST", endpoint: string, body?: unknown, timeoutMs = 5000): Promise<unknown> {
  return (await controlFetch(path, method, endpoint, body, timeoutMs)).json();
}
