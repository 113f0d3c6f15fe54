// The LAST COMMAND cell of `esxkit status` / `esxkit bmc list`: the daemon's object, for people.
import { describe, expect, test } from "bun:test";
import { ago, commandTitle, formatLastCommand } from "../../src/cli/last-command.ts";

const NOW = Date.parse("2026-12-02T12:00:00.000Z");
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();

describe("formatLastCommand", () => {
  test.each([
    { name: "a success", value: { name: "get_chassis_status", cc: 0, result: "ok", at: at(12), peer: "10.0.0.5" }, text: "Get Chassis Status ok, 12 s ago, 10.0.0.5" },
    {
      name: "a failure with a named code",
      value: { name: "chassis_control", cc: 0xd4, result: "insufficient privilege level", at: at(3), peer: "10.0.0.5" },
      text: "Chassis Control failed: insufficient privilege level (0xd4), 3 s ago, 10.0.0.5",
    },
    {
      name: "a code the daemon has no name for (the hex is said once)",
      value: { name: "set_system_boot_options", cc: 0x80, result: "completion code 0x80", at: at(90), peer: "192.0.2.1" },
      text: "Set System Boot Options failed: completion code 0x80, 1 min ago, 192.0.2.1",
    },
    {
      name: "a command esxkit does not know",
      value: { name: "0x2c_0x00", cc: 0xc1, result: "invalid command", at: at(0), peer: "127.0.0.1" },
      text: "NetFn 0x2c command 0x00 failed: invalid command (0xc1), 0 s ago, 127.0.0.1",
    },
    { name: "abbreviations", value: { name: "get_lan_config_params", cc: 0, result: "ok", at: at(7200), peer: "::1" }, text: "Get LAN Config Params ok, 2 h ago, ::1" },
    { name: "a time in the future (clock stepped back)", value: { name: "get_device_id", cc: 0, result: "ok", at: at(-5), peer: "10.0.0.5" }, text: "Get Device ID ok, 0 s ago, 10.0.0.5" },
    { name: "no time and no peer", value: { name: "get_device_guid", cc: 0, result: "ok" }, text: "Get Device GUID ok" },
    { name: "no command yet", value: undefined, text: "-" },
  ])("$name", ({ value, text }) => {
    expect(formatLastCommand(value, NOW)).toBe(text);
  });
});

describe("ago", () => {
  test.each([
    { s: 0, text: "0 s ago" },
    { s: 59, text: "59 s ago" },
    { s: 60, text: "1 min ago" },
    { s: 3599, text: "59 min ago" },
    { s: 3600, text: "1 h ago" },
    { s: 47 * 3600, text: "47 h ago" },
    { s: 48 * 3600, text: "2 d ago" },
  ])("$s s → $text", ({ s, text }) => {
    expect(ago(s * 1000)).toBe(text);
  });
});

describe("commandTitle", () => {
  test.each([
    { name: "get_bmc_global_enables", title: "Get BMC Global Enables" },
    { name: "get_system_guid", title: "Get System GUID" },
    { name: "warm_reset", title: "Warm Reset" },
    { name: "0x06_0xff", title: "NetFn 0x06 command 0xff" },
  ])("$name → $title", ({ name, title }) => {
    expect(commandTitle(name)).toBe(title);
  });
});
