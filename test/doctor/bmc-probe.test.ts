// The "each BMC answers" probe: its request is byte for byte what ipmitool sends first, a real
// BMC (pyghmi) answers it, and silence is reported within the deadline.
import { afterAll, describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import type { Subprocess } from "bun";
import type { PhysicalBmcConfig } from "../../src/config/types.ts";
import { authCapabilitiesRequest, describeAuthCapabilities, probeBmcAnswers, probeBmcSession } from "../../src/doctor/bmc-probe.ts";
import { freeUdpPort, startPyghmiBmc, stopAll } from "../support/doctor/peers.ts";

const started: Subprocess[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  for (const p of started) p.kill("SIGKILL");
  for (const s of sockets) s.close();
  await stopAll();
});

/** A bound UDP socket on loopback with a free port. */
async function udpListener(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { socket, port: socket.address().port };
}

describe("BMC probe", () => {
  test("the request equals ipmitool's first lanplus datagram (Get Channel Authentication Capabilities)", async () => {
    const { socket, port } = await udpListener();
    const first = new Promise<Uint8Array>((resolve) => socket.once("message", (m) => resolve(new Uint8Array(m))));
    const ipmitool = Bun.spawn(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(port), "-U", "admin", "-P", "secret", "-N", "1", "-R", "1", "chassis", "power", "status"], {
      stdout: "ignore",
      stderr: "ignore",
    });
    started.push(ipmitool);
    const got = await Promise.race([first, Bun.sleep(10_000).then(() => undefined)]);
    ipmitool.kill("SIGKILL");
    expect(got).toBeDefined();
    const captured = got as Uint8Array;
    // rqSeq sits in the top 6 bits of byte 4 of the IPMI message (after the 4-byte RMCP and 10-byte session headers).
    const rqSeq = (captured[14 + 4] as number) >> 2;
    expect(Buffer.from(authCapabilitiesRequest(rqSeq)).toString("hex")).toBe(Buffer.from(captured).toString("hex"));
  });

  test("pyghmi's BMC answers, with IPMI 2.0", async () => {
    const port = await startPyghmiBmc();
    const answer = await probeBmcAnswers({ address: "127.0.0.1", port }, 3000);
    expect(answer).toEqual({ answered: true, detail: "answers (channel 1, IPMI 2.0 / RMCP+)" });
  });

  test("silence is reported as not answering, within the deadline", async () => {
    const port = await freeUdpPort();
    const answer = await probeBmcAnswers({ address: "127.0.0.1", port }, 600);
    expect(answer.answered).toBe(false);
    expect(answer.detail).toMatch(/^no IPMI answer within 600 ms/);
  });

  test.each([
    ["the configured credentials", "secret", true, /^chassis power off \(RMCP\+ cipher suite 3, administrator\)$/],
    ["a wrong password", "wrong", false, /^answers IPMI \(channel 1, IPMI 2\.0 \/ RMCP\+\), but the session failed: /],
  ])("session probe with %s against pyghmi", async (_, password, answered, detail) => {
    const port = await startPyghmiBmc();
    const bmc: PhysicalBmcConfig = { address: "127.0.0.1", port, username: "admin", password, cipher_suite: 17, privilege: "administrator" };
    const answer = await probeBmcSession(bmc, 2000);
    expect(answer.answered).toBe(answered);
    expect(answer.detail).toMatch(detail);
  });

  test("session probe against silence: not answering", async () => {
    const port = await freeUdpPort();
    const answer = await probeBmcSession({ address: "127.0.0.1", port, username: "admin", password: "x", cipher_suite: 17, privilege: "administrator" }, 500);
    expect(answer).toEqual({ answered: false, detail: "no IPMI answer within 500 ms" });
  });

  test("datagrams that are not our response are ignored", () => {
    expect(describeAuthCapabilities(new Uint8Array([1, 2, 3]), 5)).toBeUndefined();
    expect(describeAuthCapabilities(authCapabilitiesRequest(5), 5)).toBeUndefined(); // a request, not a response
  });
});
