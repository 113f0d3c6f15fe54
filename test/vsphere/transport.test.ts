// Transport: the real undici (not Bun's shim), TLS trust modes against a local HTTPS server
// with openssl-made certificates, and dead endpoints failing with the right code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as undici from "undici/index.js";
import * as lean from "../../src/net/undici.ts";
import type { EndpointConfig, TlsTrust } from "../../src/config/types.ts";
import { type DeadlineError, errorCode, TlsPinError } from "../../src/errors.ts";
import { createHttpAgent, postText, type ConnectionInfo } from "../../src/vsphere/transport.ts";
import {
  closedPort,
  makeTestPki,
  startHalfResponder,
  startHttpsServer,
  startSilentServer,
  startSlowResponder,
  type TestPki,
  type TestServer,
} from "../support/vsphere/tls-server.ts";
import { flipLastDigit } from "../support/vsphere/sim.ts";

let pki: TestPki;
let https: TestServer;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(() => {
  pki = makeTestPki();
  https = startHttpsServer(pki, "hello");
  cleanup.push(() => https.stop());
});

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

function endpoint(url: string, tls: TlsTrust, timeout_ms = 5000): EndpointConfig {
  return { name: "t", url, username: "u", password: "p", tls, timeout_ms };
}

/** One POST through a fresh agent; returns the body or the thrown error's code. */
async function attempt(url: string, tls: TlsTrust, timeout_ms = 5000, onConnection?: (i: ConnectionInfo) => void) {
  const agent = createHttpAgent(endpoint(url, tls, timeout_ms), { onConnection });
  try {
    const res = await postText(agent, url, "<x/>", { deadlineMs: timeout_ms, what: "test" });
    return { body: res.body, status: res.status };
  } catch (err) {
    return { code: errorCode(err), err };
  } finally {
    await agent.destroy();
  }
}

describe("undici is the real package", () => {
  test("Agent is the npm class, not Bun's empty shim", () => {
    expect(String(undici.Agent)).not.toBe("class Agent extends Dispatcher {}");
    const chain: string[] = [];
    for (let p = Object.getPrototypeOf(undici.Agent); p && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
      chain.push(p.name);
    }
    expect(chain).toContain("DispatcherBase");
    expect(typeof undici.buildConnector).toBe("function");
  });

  test("src/net/undici.ts hands out the npm package's own classes, with the request API attached", () => {
    expect(lean.Agent).toBe(undici.Agent);
    expect(lean.buildConnector).toBe(undici.buildConnector);
    expect(typeof (new lean.Agent() as unknown as { request?: unknown }).request).toBe("function");
  });

  test("src reaches undici only through src/net/undici.ts (lean, never the shim)", async () => {
    const offenders: string[] = [];
    for await (const f of new Bun.Glob("**/*.ts").scan({ cwd: `${import.meta.dir}/../../src` })) {
      if (f === "net/undici.ts" || f === "types.d.ts") continue;
      const text = await Bun.file(`${import.meta.dir}/../../src/${f}`).text();
      if (/(from|import\()\s*["']undici[/"']/.test(text)) offenders.push(`src/${f}`);
    }
    expect(offenders).toEqual([]);
  });

  test("no source file imports the bare specifier (Bun's shim)", async () => {
    const offenders: string[] = [];
    for (const dir of ["src", "test", "bench"]) {
      for await (const f of new Bun.Glob("**/*.ts").scan({ cwd: `${import.meta.dir}/../../${dir}` })) {
        const text = await Bun.file(`${import.meta.dir}/../../${dir}/${f}`).text();
        if (/from\s+["']undici["']|require\(\s*["']undici["']\s*\)|import\(\s*["']undici["']\s*\)/.test(text)) offenders.push(`${dir}/${f}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("our connect function runs for every new connection", async () => {
    const seen: ConnectionInfo[] = [];
    const r = await attempt(https.url, { mode: "insecure" }, 5000, (i) => seen.push(i));
    expect(r.body).toBe("hello");
    expect(seen).toHaveLength(1);
    expect(seen[0]?.thumbprints?.sha256).toBe(pki.sha256);
  });
});

describe("TLS trust", () => {
  const lowerNoColons = () => pki.sha256.replace(/:/g, "").toLowerCase();
  test.each([
    ["SHA-256 pin", () => pki.sha256],
    ["SHA-1 pin", () => pki.sha1],
    ["SHA-256 pin, lower case without colons", lowerNoColons],
  ])("right %s → 200", async (_name, pin) => {
    const r = await attempt(https.url, { mode: "thumbprint", thumbprint: pin() });
    expect(r.code).toBeUndefined();
    expect(r.body).toBe("hello");
  });

  test.each([
    ["SHA-256", () => flipLastDigit(pki.sha256)],
    ["SHA-1", () => flipLastDigit(pki.sha1)],
  ])("wrong %s pin → ESX_TLS_PIN with the actual thumbprints", async (_name, pin) => {
    const r = await attempt(https.url, { mode: "thumbprint", thumbprint: pin() });
    expect(r.code).toBe("ESX_TLS_PIN");
    expect(r.err).toBeInstanceOf(TlsPinError);
    expect((r.err as TlsPinError).actualSha256).toBe(pki.sha256);
    expect((r.err as TlsPinError).actualSha1).toBe(pki.sha1);
  });

  test("the pin is checked on every new connection, not just the first", async () => {
    const seen: ConnectionInfo[] = [];
    const agent = createHttpAgent(endpoint(https.url, { mode: "thumbprint", thumbprint: pki.sha256 }), {
      onConnection: (i) => seen.push(i),
    });
    try {
      // Concurrent requests force several sockets.
      const all = await Promise.all(
        Array.from({ length: 4 }, () => postText(agent, https.url, "<x/>", { deadlineMs: 5000, what: "t" })),
      );
      expect(all.map((r) => r.body)).toEqual(["hello", "hello", "hello", "hello"]);
      expect(seen.length).toBeGreaterThan(1);
      for (const s of seen) expect(s.thumbprints?.sha256).toBe(pki.sha256);
    } finally {
      await agent.destroy();
    }
  });

  test("CA file that signed the certificate → 200", async () => {
    const r = await attempt(https.url, { mode: "verify", ca: pki.caPem });
    expect(r.body).toBe("hello");
  });

  test("CA file of another CA → ESX_TLS_VERIFY", async () => {
    const r = await attempt(https.url, { mode: "verify", ca: pki.otherCaPem });
    expect(r.code).toBe("ESX_TLS_VERIFY");
  });

  test("default verification against the system store → ESX_TLS_VERIFY", async () => {
    const r = await attempt(https.url, { mode: "verify" });
    expect(r.code).toBe("ESX_TLS_VERIFY");
  });

  test("insecure → 200", async () => {
    const r = await attempt(https.url, { mode: "insecure" });
    expect(r.body).toBe("hello");
  });

  test("a malformed pin is refused when the agent is created", () => {
    expect(() => createHttpAgent(endpoint(https.url, { mode: "thumbprint", thumbprint: "AB:CD" }))).toThrow(/thumbprint/);
  });
});

describe("dead endpoints fail with a clear code within the deadline", () => {
  // Each test's own timeout (5 s) bounds the wait; the call's deadline is 400 ms.
  test("closed port → ESX_CONNECT", async () => {
    const port = await closedPort();
    const r = await attempt(`https://127.0.0.1:${port}/sdk`, { mode: "insecure" }, 400);
    expect(r.code).toBe("ESX_CONNECT");
  }, 5000);

  test.each([["http"], ["https"]])("%s listener that accepts and never answers → ESX_DEADLINE", async (scheme) => {
    const srv = await startSilentServer();
    cleanup.push(() => srv.stop());
    const r = await attempt(`${scheme}://127.0.0.1:${srv.port}/sdk`, { mode: "insecure" }, 400);
    expect(r.code).toBe("ESX_DEADLINE");
    expect(srv.connections()).toBeGreaterThan(0);
  }, 5000);

  test("a per-call deadline shorter than the agent's connect timeout still wins during a stuck TLS handshake", async () => {
    const srv = await startSilentServer();
    cleanup.push(() => srv.stop());
    const url = `https://127.0.0.1:${srv.port}/sdk`;
    const agent = createHttpAgent(endpoint(url, { mode: "insecure" }, 20_000));
    try {
      const err = await postText(agent, url, "<x/>", { deadlineMs: 300, what: "probe" }).catch((e) => e);
      expect(errorCode(err)).toBe("ESX_DEADLINE");
    } finally {
      await agent.destroy();
    }
  }, 3000);

  test("a call's deadline longer than timeout_ms raises the header timeout: a slow answer arrives", async () => {
    // The agent's own header timeout (300 ms) would cut this; the call's 5 s deadline covers it.
    const srv = await startSlowResponder(1200, "late but fine");
    cleanup.push(() => srv.stop());
    const agent = createHttpAgent(endpoint(srv.url, { mode: "insecure" }, 300));
    try {
      const res = await postText(agent, srv.url, "<x/>", { deadlineMs: 5000, what: "long poll" });
      expect(res.body).toBe("late but fine");
    } finally {
      await agent.destroy();
    }
  }, 10_000);

  test("a silent server still fails with ESX_DEADLINE at the call's (longer) deadline", async () => {
    const srv = await startSilentServer();
    cleanup.push(() => srv.stop());
    const agent = createHttpAgent(endpoint(srv.url, { mode: "insecure" }, 300));
    try {
      const err = await postText(agent, srv.url, "<x/>", { deadlineMs: 1500, what: "long poll" }).catch((e) => e);
      expect(errorCode(err)).toBe("ESX_DEADLINE");
      // Which timer fired: the call's 1500 ms deadline, not the agent's 300 ms header timeout.
      expect((err as DeadlineError).ms).toBe(1500);
      expect(srv.connections()).toBeGreaterThan(0);
    } finally {
      await agent.destroy();
    }
  }, 10_000);

  test.each([
    ["the socket closes", "close", "ESX_CONNECT"],
    ["silence", "hang", "ESX_DEADLINE"],
  ] as const)("half a response, then %s → %s", async (_, after, code) => {
    const srv = await startHalfResponder(after);
    cleanup.push(() => srv.stop());
    const r = await attempt(srv.url, { mode: "insecure" }, 400);
    expect(r.code).toBe(code);
  }, 5000);

  test("caller abort rejects with the caller's reason, not a deadline", async () => {
    const srv = await startSilentServer();
    cleanup.push(() => srv.stop());
    const agent = createHttpAgent(endpoint(srv.url, { mode: "insecure" }, 5000));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("shutting down")), 50);
    try {
      await expect(postText(agent, srv.url, "<x/>", { deadlineMs: 5000, what: "t", signal: ac.signal })).rejects.toThrow(
        "shutting down",
      );
    } finally {
      await agent.destroy();
    }
  }, 5000);
});
