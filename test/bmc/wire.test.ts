// Every command the BMC answers, sent by ipmitool over IPMI 1.5 (MD5: the payload is in
// clear, so tshark can dissect each reply), including error replies. tshark must decode
// the replies and find nothing malformed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { ipmitool } from "../support/bmc/clients.ts";
import { type RunningBmc, startBmc } from "../support/bmc/service.ts";
import { type Capture, checkReplies, startCapture } from "../support/ipmi/tshark.ts";

let bmc: RunningBmc;
let capture: Capture;

beforeAll(async () => {
  bmc = await startBmc(new MemoryBackend({ power: "on" }));
  capture = await startCapture(bmc.port);
});
afterAll(async () => {
  await capture.stop().catch(() => undefined);
  await bmc.stop();
});

// [ipmitool arguments, reply tshark must show]
const COMMANDS: [string[], string][] = [
  [["mc", "info"], "Rsp, Get Device ID, Command Completed Normally (00h)"],
  [["mc", "guid"], "Rsp, Get System GUID, Command Completed Normally (00h)"],
  [["raw", "0x06", "0x08"], "Rsp, Get Device GUID, Command Completed Normally (00h)"],
  [["mc", "selftest"], "Rsp, Get Self Test Results, Command Completed Normally (00h)"],
  [["mc", "getenables"], "Rsp, Get BMC Global Enables, Command Completed Normally (00h)"],
  [["chassis", "status"], "Rsp, Get Chassis Status, Command Completed Normally (00h)"],
  [["chassis", "restart_cause"], "Rsp, Get System Restart Cause, Command Completed Normally (00h)"],
  [["raw", "0x00", "0x00"], "Rsp, Get Chassis Capabilities, Command Completed Normally (00h)"],
  [["chassis", "bootdev", "pxe"], "Rsp, Set System Boot Options, Command Completed Normally (00h)"],
  [["chassis", "bootparam", "get", "5"], "Rsp, Get System Boot Options, Command Completed Normally (00h)"],
  [["chassis", "bootparam", "get", "3"], "Rsp, Get System Boot Options, Command Completed Normally (00h)"],
  [["chassis", "bootparam", "get", "7"], "Rsp, Get System Boot Options, Parameter not supported (80h)"],
  [["lan", "print", "1"], "Rsp, Get LAN Configuration Parameters, Command Completed Normally (00h)"],
  [["raw", "0x0c", "0x02", "0x01", "0x1a", "0x00", "0x00"], "Rsp, Get LAN Configuration Parameters, Parameter not supported (80h)"],
  [["raw", "0x0c", "0x02", "0x01", "0x03"], "Rsp, Get LAN Configuration Parameters, Request data length invalid (c7h)"],
  [["channel", "info"], "Rsp, Get Channel Info, Command Completed Normally (00h)"],
  [["raw", "0x06", "0x42", "0x02"], "Rsp, Get Channel Info, Invalid data field in Request (cch)"],
  [["raw", "0x00", "0x02", "0x06"], "Rsp, Chassis Control, Invalid data field in Request (cch)"],
  [["raw", "0x0a", "0x40"], "Rsp, Get SEL Info, Invalid Command (c1h)"],
];

test.each(COMMANDS)("ipmitool -I lan %p", async (args) => {
  const r = await ipmitool(bmc.port, "lan", ["-A", "MD5"], args);
  expect(r.timedOut).toBe(false);
});

test("tshark dissects every reply and finds nothing malformed", async () => {
  const file = await capture.stop();
  const check = await checkReplies(file, bmc.port, COMMANDS.map(([, reply]) => reply));
  expect(check).toEqual({ missing: [], problems: "" });
});
