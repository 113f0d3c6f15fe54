// The listener: telnets:// (TLS) and bind errors.
import { afterEach, expect, test } from "bun:test";
import { silentLogger } from "../../src/log/logger.ts";
import { startVspcServer } from "../../src/vspc/server.ts";
import { makeTestPki } from "../support/vsphere/tls-server.ts";
import { VmEndpoint } from "../support/vspc/vm-endpoint.ts";
import { collect, type Harness, startHarness, until } from "./harness.ts";

let h: Harness | undefined;
let v: VmEndpoint | undefined;
afterEach(async () => {
  v?.close();
  await h?.close();
  h = v = undefined;
});

test("telnets://: handshake, data and a vMotion over TLS", async () => {
  const pki = makeTestPki();
  h = await startHarness({ tls: { cert: pki.certPem, key: pki.keyPem } });
  v = await VmEndpoint.connect({ port: h.port, tls: true, identity: { serviceUri: "esxkit", direction: "server", vcUuid: "u-tls", name: "tls-vm" } });
  await until(() => h!.attached.length === 1, "attach");
  const port = h.attached[0]!.port;
  const out = collect(port);
  v.write(new TextEncoder().encode("over tls"));
  await until(() => out.text() === "over tls", "data");
  expect(await v.vmotion("complete", { duringHandover: () => port.write(Uint8Array.of(0xff, 1)) })).toBe("complete");
  await until(() => Buffer.concat(v!.input).equals(Buffer.of(0xff, 1)), "held bytes over the new TLS connection");
});

test("a plain-telnet client on a TLS listener is dropped", async () => {
  const pki = makeTestPki();
  h = await startHarness({ tls: { cert: pki.certPem, key: pki.keyPem }, limits: { handshakeTimeoutMs: 500 } });
  const plain = VmEndpoint.start({ port: h.port, identity: { serviceUri: "esxkit", direction: "server", name: "x" } });
  await plain.current.closedPromise;
  expect(h.attached).toHaveLength(0);
  await until(() => h!.logs.some((l) => l.level === "warn" && l.msg.includes("TLS handshake failed")), "TLS warning");
  expect(h.server.stats().dropped).toBe(1);
});

test("a port in use rejects with BindError (EADDRINUSE)", async () => {
  h = await startHarness();
  const err = await startVspcServer({ address: "127.0.0.1", port: h.port, logger: silentLogger, attach: () => true }).catch((e) => e);
  expect(err).toMatchObject({ code: "ESX_BIND", errno: "EADDRINUSE" });
});
