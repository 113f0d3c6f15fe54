// Unit tests of the Redfish building blocks: the X.509 builder (checked by openssl), sessions'
// idle timeout, the failed-login limiter, and the router's refusal of odd path segments.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redfishError } from "../../src/bmc/redfish-systems.ts";
import { BmcBackendError, DeadlineError, TaskFailedError } from "../../src/errors.ts";
import { createSelfSigned, pemThumbprint } from "../../src/net/x509.ts";
import { LoginLimiter } from "../../src/redfish/login-limiter.ts";
import { routes } from "../../src/redfish/resources/index.ts";
import { Router } from "../../src/redfish/router.ts";
import { SessionStore } from "../../src/redfish/sessions.ts";

describe("self-signed certificate", () => {
  test("openssl reads it: v3, CN, SAN (DNS and IPv4/IPv6), CA:FALSE, serverAuth, valid signature, same thumbprint", () => {
    const dir = mkdtempSync(join(tmpdir(), "esxkit-x509-"));
    const c = createSelfSigned({ commonName: "esxkit jump", altNames: ["jump.example", "192.0.2.7", "2001:db8::5"], days: 30 });
    writeFileSync(join(dir, "c.pem"), c.certPem);
    const text = Bun.spawnSync(["openssl", "x509", "-in", join(dir, "c.pem"), "-noout", "-text"]).stdout.toString();
    expect(text).toContain("Version: 3 (0x2)");
    expect(text).toContain("Subject: CN = esxkit jump");
    expect(text).toContain("DNS:jump.example, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:5");
    expect(text).toContain("CA:FALSE");
    expect(text).toContain("TLS Web Server Authentication");
    expect(text).toContain("ecdsa-with-SHA256");
    const verify = Bun.spawnSync(["openssl", "verify", "-CAfile", join(dir, "c.pem"), join(dir, "c.pem")]);
    expect(verify.stdout.toString()).toContain(": OK");
    const fp = Bun.spawnSync(["openssl", "x509", "-in", join(dir, "c.pem"), "-noout", "-fingerprint", "-sha256"]).stdout.toString();
    expect(fp.trim().split("=")[1]).toBe(c.thumbprint);
    expect(pemThumbprint(c.certPem)).toBe(c.thumbprint);
    expect(c.keyPem).toContain("BEGIN PRIVATE KEY");
  });
});

describe("sessions", () => {
  test("tokens are 128-bit hex, refreshed on use, gone after the idle timeout, capped", () => {
    let now = 0;
    const s = new SessionStore({ idleTimeoutMs: 1000, max: 2, now: () => now });
    const a = s.create("admin", "127.0.0.1");
    expect(a?.token).toMatch(/^[0-9a-f]{32}$/);
    now = 900;
    expect(s.touch(a?.token as string)?.user).toBe("admin");
    now = 1800;
    expect(s.touch(a?.token as string)).toBeDefined(); // used at 900: still alive
    s.create("admin", "x");
    expect(s.create("admin", "y")).toBeUndefined();
    now = 5000;
    expect(s.touch(a?.token as string)).toBeUndefined();
    expect(s.size).toBe(0);
  });
});

describe("failed-login limiter", () => {
  test("a source is locked after the burst and earns one attempt back per refill; other sources are unaffected", () => {
    let now = 0;
    const l = new LoginLimiter({ burst: 3, refillMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter("a")).toBe(0);
      l.failed("a");
    }
    expect(l.retryAfter("a")).toBe(10);
    expect(l.retryAfter("b")).toBe(0);
    now = 10_000;
    expect(l.retryAfter("a")).toBe(0);
    l.failed("a");
    expect(l.retryAfter("a")).toBeGreaterThan(0);
  });
});

describe("router", () => {
  const r = new Router(routes);
  test.each([
    ["/redfish/v1", "ServiceRoot"],
    ["/redfish/v1/", "ServiceRoot"],
    ["/redfish/v1/Systems/abc", "ComputerSystem"],
    ["/redfish/v1/Managers/abc/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia", "EjectMedia"],
    ["/redfish/v1/Systems/abc/VirtualMedia/Cd", "VirtualMedia"],
  ])("%s → %s", (path, name) => {
    expect(r.match(path)?.route.name).toBe(name);
  });
  test.each(["/redfish/v1/Systems/..%2Fx", "/redfish/v1/Systems/%2e%2e", "/redfish/v1/Systems/a%00", "/redfish/v1/Systems/%zz", `/redfish/v1/Systems/${"a".repeat(300)}`, "/redfish/v1/Systems/a/b/c/d"])("%s matches nothing", (path) => {
    expect(r.match(path)).toBeUndefined();
  });
});

describe("machine failures as Redfish answers", () => {
  test.each([
    ["unsupported → 400", new BmcBackendError("unsupported", "no NMI"), 400, "ActionNotSupported"],
    ["invalid_state → 409", new BmcBackendError("invalid_state", "off"), 409, "OperationNotAllowed"],
    ["busy → 409", new BmcBackendError("busy", "busy"), 409, "ResourceInUse"],
    ["unavailable → 503", new BmcBackendError("unavailable", "down"), 503, "ServiceTemporarilyUnavailable"],
    ["deadline → 503", new DeadlineError("power on", 60000), 503, "ServiceTemporarilyUnavailable"],
    ["anything else → 500", new Error("boom"), 500, "OperationFailed"],
  ] as const)("%s", (_name, err, status, id) => {
    const e = redfishError(err, "Reset On");
    expect(e.status).toBe(status);
    expect(e.messageId).toBe(id);
  });
  test("a vSphere InvalidPowerState task fault is 409", () => {
    const fault = Object.create(TaskFailedError.prototype) as TaskFailedError;
    Object.assign(fault, { faultType: "InvalidPowerState", message: "InvalidPowerState" });
    expect(redfishError(fault, "Reset").status).toBe(409);
  });
});
