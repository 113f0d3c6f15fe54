// Real IPMI clients against a BMC on 127.0.0.1: ipmitool, freeipmi, pyghmi, fence_ipmilan.
// Every run is bounded; a failure message carries the client's own output.
import { expect } from "bun:test";
import { run, type RunResult } from "../ipmi/peers.ts";
import { BMC_PASSWORD, BMC_USER } from "./service.ts";

export { run, type RunResult };

export const PYTHON = "/usr/bin/python3";
const TIMEOUT_MS = 30_000;

export function ipmitool(port: number, iface: "lanplus" | "lan", extra: string[], args: string[]): Promise<RunResult> {
  return run("ipmitool", ["-I", iface, "-H", "127.0.0.1", "-p", String(port), "-U", BMC_USER, "-P", BMC_PASSWORD, ...extra, ...args], TIMEOUT_MS);
}

export function freeipmi(tool: string, port: number, args: string[]): Promise<RunResult> {
  return run(tool, ["-D", "LAN_2_0", "-h", `127.0.0.1:${port}`, "-u", BMC_USER, "-p", BMC_PASSWORD, ...args], TIMEOUT_MS);
}

export function fenceIpmilan(port: number, args: string[]): Promise<RunResult> {
  return run(
    "fence_ipmilan",
    [`--ip=127.0.0.1`, `--ipport=${port}`, `--username=${BMC_USER}`, `--password=${BMC_PASSWORD}`, "--lanplus", ...args],
    60_000,
  );
}

/**
 * Run pyghmi's client: `script` gets a connected `ipmicmd` and prints a JSON result.
 * The script ends with an explicit logout: a pyghmi process that just exits sends no Close
 * Session (its session then lingers until the BMC's idle timeout), and a test file runs
 * more pyghmi processes than a BMC has session slots.
 */
export function pyghmi(port: number, script: string): Promise<RunResult> {
  const program = [
    "import json, sys",
    "from pyghmi.ipmi import command",
    `ipmicmd = command.Command(bmc="127.0.0.1", port=${port}, userid=${JSON.stringify(BMC_USER)}, password=${JSON.stringify(BMC_PASSWORD)})`,
    "try:",
    ...script.split("\n").map((l) => `    ${l}`),
    "finally:",
    "    ipmicmd.ipmi_session.logout()",
  ].join("\n");
  return run(PYTHON, ["-c", program], 60_000);
}

/** Assert a clean exit, showing the client's output otherwise. */
export function ok(r: RunResult, what: string): string {
  if (r.code !== 0 || r.timedOut) {
    throw new Error(`${what}: exit ${r.code}${r.timedOut ? " (timed out)" : ""}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

export function expectFailure(r: RunResult, pattern: RegExp): void {
  expect(r.timedOut).toBe(false);
  expect(r.code).not.toBe(0);
  expect(`${r.stdout}\n${r.stderr}`).toMatch(pattern);
}
