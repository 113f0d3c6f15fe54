// bindHttp: a Bun.serve that cannot bind becomes a BindError that names the address and says why.
import { describe, expect, test } from "bun:test";
import { BindError } from "../../src/errors.ts";
import { bindHttp } from "../../src/net/http-bind.ts";

const serve = (hostname: string, port: number, extra: { development?: boolean; reusePort?: boolean } = {}) =>
  bindHttp(hostname, port, () => Bun.serve({ hostname, port, fetch: () => new Response("ok"), ...extra }));

describe("bindHttp", () => {
  test("a free port: the server itself, answering", async () => {
    const server = serve("127.0.0.1", 0);
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(200);
    } finally {
      await server.stop(true);
    }
  });

  const holder = () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  test.each([
    ["a port another process holds (development server)", { development: true }],
    ["a port another process holds (production server without SO_REUSEPORT, as Redfish binds)", { development: false, reusePort: false }],
  ] as const)("%s: ESX_BIND, EADDRINUSE, the address in the message", (_what, extra) => {
    const held = holder();
    try {
      let err: unknown;
      try {
        serve("127.0.0.1", held.port, extra).stop(true);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BindError);
      expect((err as BindError).code).toBe("ESX_BIND");
      expect((err as BindError).errno).toBe("EADDRINUSE");
      expect((err as Error).message).toBe(`127.0.0.1:${held.port}/tcp: port ${held.port} is already in use (EADDRINUSE): another process listens there`);
    } finally {
      held.stop(true);
    }
  });
});
