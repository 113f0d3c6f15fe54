// The sequence vCenter runs when a BMC is registered for host power management (DPM):
// ASF presence ping, Get Channel Authentication Capabilities in both framings, an IPMI 1.5
// MD5 session reading Get Channel Info / Get Channel Access and LAN parameters 3, 4, 5, 6,
// then power status and power on. Replies are checked byte for byte where the spec fixes
// them, and tshark must find no malformed frame in the whole exchange.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BACKEND_KINDS, type Machine, type MachineLab, startLab } from "../support/bmc/backends.ts";
import { ipmitool, ok } from "../support/bmc/clients.ts";
import { type RunningBmc, startBmc } from "../support/bmc/service.ts";
import { exchange, fromHex, hex } from "../support/bmc/udp.ts";
import { type Capture, checkReplies, startCapture } from "../support/ipmi/tshark.ts";

const MAC = "00:50:56:3f:a0:01";

/** ipmitool raw output ("01 04 01 ...") as bytes. */
const rawBytes = (out: string) => out.trim().split(/\s+/).filter(Boolean).map((h) => Number.parseInt(h, 16));

describe.each(BACKEND_KINDS)("%s backend", (kind) => {
  let lab: MachineLab;
  let m: Machine;
  let bmc: RunningBmc;
  let capture: Capture;
  // IPMI 1.5 with MD5, as VMware documents DPM.
  const lan = (...args: string[]) => ipmitool(bmc.port, "lan", ["-A", "MD5", "-L", "OPERATOR"], args);

  beforeAll(async () => {
    lab = await startLab(kind, 2);
    m = await lab.machine({ power: "off" });
    bmc = await startBmc(m.backend, { mac: MAC, ipmi15: true });
    capture = await startCapture(bmc.port);
  });
  afterAll(async () => {
    await capture.stop().catch(() => undefined);
    await bmc.stop();
    await lab.cleanup();
  });

  test("RMCP/ASF presence ping is answered with a pong", async () => {
    const pong = await exchange(bmc.port, fromHex("0600ff06 000011be 80 5a 00 00"));
    // RMCP header, IANA 4542, pong, the ping's tag, length 16, IANA, OEM 0, IPMI supported, no interactions.
    expect(hex(pong)).toBe("0600ff06000011be405a0010000011be000000008100000000000000");
  });

  test.each([
    ["IPMI 1.5 framing", "0600ff07 00 00000000 00000000 09 2018c8 81 00 38 8e04 b5", "00"],
    ["IPMI 2.0 framing", "0600ff07 06 00 00000000 00000000 0900 2018c8 81 00 38 8e04 b5", "06"],
  ])("Get Channel Authentication Capabilities in %s is answered in the same framing, channel 1", async (_n, request, authType) => {
    const reply = await exchange(bmc.port, fromHex(request));
    expect(hex(reply.subarray(0, 5))).toBe(`0600ff07${authType}`);
    // IPMI message: rqAddr 81, netFn/LUN 1C (App response), cksum, rsAddr 20, seq, cmd 38, cc 00, channel 01.
    const msgStart = authType === "06" ? 16 : 14;
    const msg = reply.subarray(msgStart);
    expect(hex(msg.subarray(0, 2))).toBe("811c");
    expect(msg[5]).toBe(0x38);
    expect(msg[6]).toBe(0x00);
    expect(msg[7]).toBe(0x01);
    expect(msg[8]! & 0x04).toBe(0x04); // MD5 offered (ipmi15 = true)
    expect(msg[8]! & 0x80).toBe(0x80); // IPMI 2.0 extended data
  });

  test("Get Channel Info, Get Channel Access and Auth Capabilities agree on channel 1", async () => {
    const info = rawBytes(ok(await lan("raw", "0x06", "0x42", "0x0e"), "channel info"));
    expect(info.slice(0, 3)).toEqual([0x01, 0x04, 0x01]);
    for (const which of ["0x40", "0x80"]) {
      expect(rawBytes(ok(await lan("raw", "0x06", "0x41", "0x01", which), "channel access"))).toEqual([0x22, 0x04]);
    }
    const caps = rawBytes(ok(await lan("raw", "0x06", "0x38", "0x0e", "0x04"), "auth caps"));
    expect(caps[0]).toBe(info[0]);
  });

  test.each([
    ["3 (IP address)", "0x03", [0x11, 127, 0, 0, 1]],
    ["4 (IP address source)", "0x04", [0x11, 0x01]],
    ["5 (MAC address, as configured)", "0x05", [0x11, 0x00, 0x50, 0x56, 0x3f, 0xa0, 0x01]],
    ["6 (subnet mask)", "0x06", [0x11, 255, 0, 0, 0]],
  ])("Get LAN Configuration Parameter %s", async (_n, param, expected) => {
    expect(rawBytes(ok(await lan("raw", "0x0c", "0x02", "0x01", param, "0x00", "0x00"), `lan param ${param}`))).toEqual(expected);
  });

  test("an unsupported LAN parameter answers 80h with no data byte", async () => {
    const r = await lan("raw", "0x0c", "0x02", "0x01", "0x1a", "0x00", "0x00");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rsp=0x80/);
  });

  test("power status, then power on, over the IPMI 1.5 session", async () => {
    expect(ok(await lan("chassis", "power", "status"), "status")).toContain("Chassis Power is off");
    expect(ok(await lan("chassis", "power", "on"), "on")).toContain("Up/On");
    await bmc.service.drain();
    await m.settled("on");
    expect(ok(await lan("chassis", "power", "status"), "status")).toContain("Chassis Power is on");
  });

  test("tshark dissects the whole exchange and finds nothing malformed", async () => {
    const file = await capture.stop();
    const check = await checkReplies(file, bmc.port, [
      "Presence Pong",
      "Rsp, Get Channel Authentication Capabilities, Command Completed Normally (00h)",
      "Rsp, Get Channel Info, Command Completed Normally (00h)",
      "Rsp, Get Channel Access, Command Completed Normally (00h)",
      "Rsp, Get LAN Configuration Parameters, Command Completed Normally (00h)",
      "Rsp, Get LAN Configuration Parameters, Parameter not supported (80h)",
      "Rsp, Get Chassis Status, Command Completed Normally (00h)",
      "Rsp, Chassis Control, Command Completed Normally (00h)",
    ]);
    expect(check).toEqual({ missing: [], problems: "" });
  });
});
