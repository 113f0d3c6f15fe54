// Sessions against the simulator in vCenter (VPX) and standalone-ESXi mode: login, bad login,
// the sessionless probe, TLS modes, and transparent re-login after a server-side termination.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorCode, SoapFaultError } from "../../src/errors.ts";
import { probeServiceContent, VimClient } from "../../src/vsphere/client.ts";
import { VimClientPool } from "../../src/vsphere/pool.ts";
import { retrieveProperties } from "../../src/vsphere/properties.ts";
import { flipLastDigit, SimFixture, simEndpoint, type Vcsim } from "../support/vsphere/sim.ts";

const SERVICE_INSTANCE = { type: "ServiceInstance", value: "ServiceInstance" };

describe.each([
  ["vpx", "VirtualCenter", true],
  ["esx", "HostAgent", false],
] as const)("%s simulator", (mode, apiType, isVCenter) => {
  const fx = new SimFixture();
  let sim: Vcsim;

  beforeAll(async () => {
    sim = await fx.start({ mode });
  });
  afterAll(() => fx.cleanup());

  test("connect + login over a pinned connection", async () => {
    const c = await fx.connect(sim);
    expect(c.about.apiType).toBe(apiType);
    expect(c.isVCenter).toBe(isVCenter);
    expect(c.session?.userName).toBe(sim.username);
    expect(c.stats.logins).toBe(1);
    // A call that needs a session works.
    const t = await c.call("CurrentTime", SERVICE_INSTANCE);
    expect(typeof t).toBe("string");
  });

  test("bad password → SoapFaultError InvalidLogin", async () => {
    const err = await VimClient.connect(simEndpoint(sim, { password: "wrong" })).catch((e) => e);
    expect(err).toBeInstanceOf(SoapFaultError);
    expect(errorCode(err)).toBe("ESX_SOAP_FAULT");
    expect((err as SoapFaultError).faultType).toBe("InvalidLogin");
  });

  test("sessionless probe: RetrieveServiceContent without Login", async () => {
    const sc = await probeServiceContent(simEndpoint(sim), 5000);
    expect(sc.about.apiType).toBe(apiType);
    expect(sc.sessionManager).toBeDefined();
  });

  test("a method that needs a session, without one → NotAuthenticated", async () => {
    const c = await fx.connect(sim, {}, { login: false });
    const err = await c.call("CurrentTime", SERVICE_INSTANCE).catch((e) => e);
    expect((err as SoapFaultError).faultType).toBe("NotAuthenticated");
  });

  test.each([
    ["CA file (the simulator's own certificate)", () => ({ mode: "verify" as const, ca: sim.certPem ?? "" }), undefined],
    ["insecure", () => ({ mode: "insecure" as const }), undefined],
    ["SHA-1 pin", () => ({ mode: "thumbprint" as const, thumbprint: sim.thumbprintSha1 }), undefined],
    ["wrong pin", () => ({ mode: "thumbprint" as const, thumbprint: flipLastDigit(sim.thumbprintSha256) }), "ESX_TLS_PIN"],
    ["default verification (self-signed)", () => ({ mode: "verify" as const }), "ESX_TLS_VERIFY"],
  ])("TLS: %s", async (_name, tls, expectedCode) => {
    const r = await VimClient.connect(simEndpoint(sim, { tls: tls() })).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e) => errorCode(e) ?? String(e),
    );
    expect(r).toBe(expectedCode);
  });

  test("terminated session: the next calls re-login once, transparently", async () => {
    const victim = await fx.connect(sim);
    const admin = await fx.connect(sim);
    const before = victim.session?.key;
    expect(before).toBeDefined();
    await admin.call("TerminateSession", admin.serviceContent.sessionManager!, { sessionId: [before!] });

    // Several concurrent callers notice the dead session; one login serves them all.
    const results = await Promise.all([
      victim.call("CurrentTime", SERVICE_INSTANCE),
      retrieveProperties(victim, { type: "HostSystem", paths: ["name"] }),
      victim.call("CurrentTime", SERVICE_INSTANCE),
    ]);
    expect(typeof results[0]).toBe("string");
    expect(results[1].length).toBeGreaterThan(0);
    expect(victim.stats.relogins).toBe(1);
    expect(victim.stats.logins).toBe(2);
    expect(victim.session?.key).not.toBe(before);
  });

  test("pool: one shared client per endpoint name, closed on shutdown", async () => {
    const pool = new VimClientPool([simEndpoint(sim, { name: "a" })]);
    try {
      const [a1, a2] = await Promise.all([pool.get("a"), pool.get("a")]);
      expect(a1).toBe(a2);
      expect(a1.stats.logins).toBe(1);
      await expect(pool.get("nope")).rejects.toThrow(/no endpoint named "nope"/);
    } finally {
      await pool.close();
    }
    await expect(pool.get("a")).rejects.toThrow(/closed/);
  });
});
