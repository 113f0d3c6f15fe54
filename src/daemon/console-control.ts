// The console endpoints of the control socket:
//   GET /v1/console            every console's status
//   GET /v1/console/NAME/log   the kept log (rotated files, then the current one), oldest first
//   GET /v1/console/NAME       a WebSocket: binary frames are the VM's output one way and
//                              keystrokes the other (`esxkit console NAME`); a text frame is a
//                              control message: BREAK_FRAME sends a serial break, others are ignored
// The socket is the control socket: only the service user can open it, so no token.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { ConsoleRegistry } from "../bmc/console/registry.ts";
import type { MachineConsole } from "../bmc/console/machine-console.ts";
import type { BytePort } from "../net/byte-port.ts";

export interface ConsoleSocketData {
  console: MachineConsole;
  port?: BytePort;
}

/** The text frame that sends the VM a serial break (`esxkit console`'s Enter ~ B). */
export const BREAK_FRAME = JSON.stringify({ op: "break" });

/** Close code sent when the console goes away (BMC removed, daemon stopping). */
export const CONSOLE_GONE = 4000;

function notFound(name: string, reg: ConsoleRegistry | undefined): Response {
  const known = reg?.list().map((c) => c.name) ?? [];
  const hint = known.length ? `; consoles: ${known.join(", ")}` : "; no [[bmc]] has serial = true";
  return Response.json({ error: `no console named "${name}"${hint}` }, { status: 404 });
}

/** Answers a console request, or returns undefined when the path is not a console path. */
export function routeConsole(req: Request, url: URL, reg: ConsoleRegistry | undefined, server: Server<ConsoleSocketData>): Response | undefined | "upgraded" {
  if (req.method !== "GET" || !url.pathname.startsWith("/v1/console")) return undefined;
  const rest = url.pathname.slice("/v1/console".length);
  if (rest === "" || rest === "/") return Response.json((reg?.list() ?? []).map((c) => ({ name: c.name, ...c.status() })));
  const m = /^\/([^/]+)(\/log)?$/.exec(rest);
  if (!m) return undefined;
  const name = decodeURIComponent(m[1] as string);
  const c = reg?.get(name);
  if (!c) return notFound(name, reg);
  if (m[2]) {
    return new Response(c.logContents(), { headers: { "content-type": "application/octet-stream" } });
  }
  const data: ConsoleSocketData = { console: c };
  if (server.upgrade(req, { data })) return "upgraded";
  return Response.json({ error: "GET /v1/console/NAME is a WebSocket; use `esxkit console NAME`" }, { status: 400 });
}

export const consoleWebsocket: WebSocketHandler<ConsoleSocketData> = {
  // A terminal must not stall the daemon: output to a reader that stopped reading is dropped.
  backpressureLimit: 1024 * 1024,
  closeOnBackpressureLimit: false,
  open(ws: ServerWebSocket<ConsoleSocketData>) {
    const port = ws.data.console.openWatcher("terminal", "control socket");
    ws.data.port = port;
    port.onData((bytes) => {
      ws.sendBinary(bytes);
    });
    port.onClose((reason) => ws.close(CONSOLE_GONE, reason.slice(0, 120)));
  },
  message(ws, message) {
    // Text frames are control messages, never keystrokes: a break must not reach the VM as text.
    if (typeof message === "string") {
      if (message === BREAK_FRAME) ws.data.port?.sendBreak?.();
      return;
    }
    ws.data.port?.write(new Uint8Array(message));
  },
  close(ws) {
    ws.data.port?.close("terminal detached");
  },
};
