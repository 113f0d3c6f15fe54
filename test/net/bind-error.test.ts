// bindError / bindHttp: a socket that cannot bind becomes a BindError that names the address and says why.
import { describe, expect, test } from "bun:test";
import { BindError } from "../../src/errors.ts";
import { bindError, bindHttp } from "../../src/net/bind-error.ts";

const osError = (code: string) => Object.assign(new Error(`${code}: bind failed`), { code });

describe("bindError", () => {
  test.each([
    ["EADDRINUSE, default holders", { address: "127.0.0.1", port: 8443, transport: "tcp" }, "EADDRINUSE", "127.0.0.1:8443/tcp in use (EADDRINUSE): another process listens there"],
    ["EADDRINUSE, the caller's holders", { address: "127.0.0.1", port: 6230, transport: "udp", holders: "another process or another [[bmc]] holds it" }, "EADDRINUSE", "127.0.0.1:6230/udp in use (EADDRINUSE): another process or another [[bmc]] holds it"],
    ["EADDRINUSE for a host name (Bun's word for one that does not resolve)", { address: "bmc.example", port: 8443, transport: "tcp" }, "EADDRINUSE", "bmc.example:8443/tcp in use (EADDRINUSE): another process listens there, or bmc.example does not resolve to an address of this host"],
    ["EADDRNOTAVAIL, IPv6 in brackets", { address: "fd00::5", port: 623, transport: "udp" }, "EADDRNOTAVAIL", "[fd00::5]:623/udp: address fd00::5 not available on this host"],
    ["EACCES below 1024", { address: "0.0.0.0", port: 623, transport: "udp" }, "EACCES", "0.0.0.0:623/udp: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep esxkit`, or AmbientCapabilities=CAP_NET_BIND_SERVICE in the unit)"],
    ["anything else", { address: "127.0.0.1", port: 8443, transport: "tcp" }, "EINVAL", "cannot bind 127.0.0.1:8443/tcp: EINVAL: bind failed"],
  ] as const)("%s", (_what, target, code, message) => {
    const err = bindError(target, osError(code));
    expect(err).toBeInstanceOf(BindError);
    expect(err.code).toBe("ESX_BIND");
    expect(err.errno).toBe(code);
    expect(err.message).toBe(message);
  });
});

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
      expect((err as Error).message).toBe(`127.0.0.1:${held.port}/tcp in use (EADDRINUSE): another process listens there`);
    } finally {
      held.stop(true);
    }
  });
});
