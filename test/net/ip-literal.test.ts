// ipFamily against node:net's isIP, the reference it replaces on the CLI's start path.
import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import { ipFamily, parseIpv4 } from "../../src/net/ip-literal.ts";

const CASES: Array<[string, 0 | 4 | 6]> = [
  ["127.0.0.1", 4],
  ["0.0.0.0", 4],
  ["255.255.255.255", 4],
  ["256.1.1.1", 0],
  ["1.2.3", 0],
  ["1.2.3.4.5", 0],
  ["01.2.3.4", 0],
  ["::", 6],
  ["::1", 6],
  ["fe80::1%eth0", 6],
  ["2001:db8::10", 6],
  ["::ffff:10.0.0.1", 6],
  ["2001:db8:0:0:0:0:0:1", 6],
  ["2001:db8::1::2", 0],
  ["12345::1", 0],
  [":::", 0],
  ["[::1]", 0],
  ["bmc01.lab", 0],
  ["localhost", 0],
  ["", 0],
  ["fe80::1%", 0],
];

describe("ipFamily", () => {
  test.each(CASES)("%p → %p", (text, family) => {
    expect(ipFamily(text)).toBe(family);
  });

  test.each(CASES)("%p agrees with node:net isIP", (text) => {
    expect(ipFamily(text)).toBe(isIP(text) as 0 | 4 | 6);
  });

  test.each([
    ["10.0.0.1", 0x0a000001],
    ["::ffff:192.168.1.2", 0xc0a80102],
    ["10.0.0.256", undefined],
  ] as const)("parseIpv4(%p) = %p", (text, n) => {
    expect(parseIpv4(text)).toBe(n);
  });
});
