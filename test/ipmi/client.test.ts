// Our RMCP+ client against three BMCs: OpenIPMI ipmi_sim (no suite 17: the 17 → 3 fallback),
// pyghmi's Bmc server (answers suite 3 whatever is asked), and our engine (suite 17).
// Plus the UDP binding helper's address families.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DeadlineError, IpmiAuthError, IpmiCompletionError } from "../../src/errors.ts";
import { IpmiClient } from "../../src/ipmi/client/client.ts";
import { RakpStatus } from "../../src/ipmi/codes/rakp-status.ts";
import { IpmiSessionEngine } from "../../src/ipmi/server/engine.ts";
import { bindIpmiUdp } from "../../src/ipmi/server/udp.ts";
import { fakeChassis } from "../support/ipmi/chassis-handler.ts";
import { ADMIN, TEST_GUID, freeUdpPort, run, startEngine, startIpmiSim, startPyghmiBmc, waitForPong, type EngineUnderTest, type ExternalBmc } from "../support/ipmi/peers.ts";

let sim: ExternalBmc;
let pyg: ExternalBmc;
let eng: EngineUnderTest;

beforeAll(async () => {
  [sim, pyg, eng] = await Promise.all([startIpmiSim(), startPyghmiBmc(), startEngine()]);
});

afterAll(async () => {
  await Promise.all([sim?.close(), pyg?.close(), eng?.close()]);
});

const opts = (port: number, over: Partial<Parameters<typeof IpmiClient.connect>[0]> = {}) => ({
  host: "127.0.0.1",
  port,
  username: ADMIN.name,
  password: ADMIN.password,
  retransmitMs: 300,
  connectTimeoutMs: 5000,
  commandTimeoutMs: 3000,
  ...over,
});

async function withClient<T>(o: Parameters<typeof IpmiClient.connect>[0], fn: (c: IpmiClient) => Promise<T>): Promise<T> {
  const c = await IpmiClient.connect(o);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

describe("against OpenIPMI ipmi_sim", () => {
  test("the default [17, 3] falls back to suite 3; power on/off/status follow", async () => {
    await withClient(opts(sim.port), async (c) => {
      expect(c.cipherSuite.id).toBe(3);
      await c.chassisControl("off");
      expect((await c.chassisStatus()).powerOn).toBe(false);
      await c.chassisControl("on");
      expect((await c.chassisStatus()).powerOn).toBe(true);
      const id = await c.getDeviceId();
      expect(id.manufacturerId).toBe(0x1291);
      expect(id.ipmiVersion).toBe("2.0");
    });
  });

  test("pinned to suite 17 it fails with ipmi_sim's Open Session status", async () => {
    const err = await IpmiClient.connect(opts(sim.port, { cipherSuites: [17] })).catch((x) => x);
    expect(err).toBeInstanceOf(IpmiAuthError);
    expect((err as IpmiAuthError).status).toBe(RakpStatus.invalidAuthenticationAlgorithm);
  });

  test("a wrong password is an IpmiAuthError, not a timeout", async () => {
    const err = await IpmiClient.connect(opts(sim.port, { password: "wrong-one" })).catch((x) => x);
    expect(err).toBeInstanceOf(IpmiAuthError);
    expect((err as IpmiAuthError).code).toBe("ESX_IPMI_AUTH");
  });
});

describe("against pyghmi's Bmc", () => {
  test("it answers a suite-17 proposal with suite 3: the client follows with 3", async () => {
    await withClient(opts(pyg.port), async (c) => {
      expect(c.cipherSuite.id).toBe(3);
      await c.chassisControl("on");
      expect((await c.chassisStatus()).powerOn).toBe(true);
      await c.chassisControl("off");
      expect((await c.chassisStatus()).powerOn).toBe(false);
    });
    // pyghmi's stdout reaches us asynchronously.
    for (let i = 0; i < 100 && !pyg.output().includes("power off"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(pyg.output()).toContain("power on");
    expect(pyg.output()).toContain("power off");
  });
});

describe("against our engine", () => {
  test("suite 17 by default; raw commands and completion codes", async () => {
    await withClient(opts(eng.port), async (c) => {
      expect(c.cipherSuite.id).toBe(17);
      const r = await c.rawCommand(0x06, 0x01);
      expect(r.cc).toBe(0);
      expect(r.data.length).toBe(15);
      const err = await c.command(0x2c, 0x00, new Uint8Array([0])).catch((x) => x);
      expect(err).toBeInstanceOf(IpmiCompletionError);
      expect((err as IpmiCompletionError).completionCode).toBe(0xc1);
    });
    expect(eng.engine.sessionCount()).toBe(0);
  });

  test("a wrong password fails with the RAKP status and the client frees the BMC's slot (RAKP3 notice)", async () => {
    const failures = eng.engine.stats().authFailures;
    const err = await IpmiClient.connect(opts(eng.port, { password: "wrong-one" })).catch((x) => x);
    expect(err).toBeInstanceOf(IpmiAuthError);
    expect((err as IpmiAuthError).status).toBe(RakpStatus.invalidIntegrityCheckValue);
    // The RAKP3 error notice reaches the engine asynchronously.
    for (let i = 0; i < 50 && eng.engine.sessionCount() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(eng.engine.sessionCount()).toBe(0);
    expect(eng.engine.stats().authFailures).toBe(failures + 1);
  });

  test("an unknown user fails with 'unauthorized name'", async () => {
    const err = await IpmiClient.connect(opts(eng.port, { username: "nobody" })).catch((x) => x);
    expect((err as IpmiAuthError).status).toBe(RakpStatus.unauthorizedName);
  });

  test("a command whose handler outlives the call's deadline fails with DeadlineError", async () => {
    const slow = await startEngine({}, { delayMs: 1500 });
    try {
      await withClient(opts(slow.port), async (c) => {
        const err = await c.chassisStatus({ timeoutMs: 400 }).catch((x) => x);
        expect(err).toBeInstanceOf(DeadlineError);
      });
    } finally {
      await slow.close();
    }
  });
});

describe("no BMC", () => {
  test("nothing listening: DeadlineError at the connect bound", async () => {
    const port = await freeUdpPort();
    const err = await IpmiClient.connect(opts(port, { connectTimeoutMs: 800, retransmitMs: 200 })).catch((x) => x);
    expect(err).toBeInstanceOf(DeadlineError);
    expect((err as DeadlineError).message).toContain("Get Channel Authentication Capabilities");
  });

  test("a host name is resolved (localhost, from /etc/hosts: no DNS traffic)", async () => {
    await withClient(opts(eng.port, { host: "localhost" }), async (c) => expect(c.cipherSuite.id).toBe(17));
  });
});

describe("bindIpmiUdp", () => {
  const engine = () => new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: fakeChassis(TEST_GUID).handler });

  test('"::" is dual-stack: answers on 127.0.0.1 and on ::1', async () => {
    const b = await bindIpmiUdp("::", 0, engine());
    try {
      expect(b.address().family).toBe("IPv6");
      await waitForPong(b.address().port, 3000, "dual-stack binding (IPv4)");
      await withClient(opts(b.address().port, { host: "::1" }), async (c) => expect(c.cipherSuite.id).toBe(17));
    } finally {
      await b.close();
    }
  });

  test("an IPv4 literal binds IPv4 only; a port in use is a bind error", async () => {
    const b = await bindIpmiUdp("127.0.0.1", 0, engine());
    try {
      expect(b.address()).toMatchObject({ address: "127.0.0.1", family: "IPv4" });
      const err = await bindIpmiUdp("127.0.0.1", b.address().port, engine()).catch((x) => x);
      expect((err as { code: string }).code).toBe("EADDRINUSE");
    } finally {
      await b.close();
    }
  });

  test("an address that is not local, and a non-address, are refused clearly", async () => {
    const err = await bindIpmiUdp("192.0.2.1", 0, engine()).catch((x) => x);
    expect((err as { code: string }).code).toBe("EADDRNOTAVAIL");
    await expect(bindIpmiUdp("bmc.example", 0, engine())).rejects.toThrow(/not an IPv4 or IPv6 literal/);
  });

  test('on a host without IPv6 "::" still serves IPv4 (network namespace with IPv6 disabled)', async () => {
    // Run a tiny server inside `unshare -n` with IPv6 disabled, and ping it from inside too.
    const script = `
      import { IpmiSessionEngine } from "${import.meta.dir}/../../src/ipmi/server/engine.ts";
      import { bindIpmiUdp } from "${import.meta.dir}/../../src/ipmi/server/udp.ts";
      import { waitForPong, TEST_GUID, ADMIN } from "${import.meta.dir}/../support/ipmi/peers.ts";
      const e = new IpmiSessionEngine({ users: [ADMIN], guid: TEST_GUID, handler: () => ({ cc: 0xc1 }) });
      const b = await bindIpmiUdp("::", 0, e);
      await waitForPong(b.address().port, 3000, "no-IPv6 binding");
      console.log("pong via", b.address().family);
      await b.close();
    `;
    const bun = process.execPath;
    const r = await run(
      "unshare",
      ["-n", "sh", "-c", `sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1 && ip link set lo up && exec "${bun}" -e '${script.replace(/'/g, "'\\''")}'`],
      30_000,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/pong via IPv(4|6)/);
  });
});
