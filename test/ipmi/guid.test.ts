// System GUID byte orders: the same uuid as three vendors send it must all match, and nothing else.
import { describe, expect, test } from "bun:test";
import { guidString, isBlankGuid, matchGuid, normalizeUuid, toRfcBytes } from "../../src/ipmi/guid.ts";

const UUID = "4c4c4544-0042-3510-8052-b2c04f4e3432";
const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => Number.parseInt(b, 16)));

// The same uuid as it comes off the wire in each order (Python's uuid.bytes, bytes_le, bytes[::-1]).
const WIRE = {
  rfc4122: hex("4c4c4544004235108052b2c04f4e3432"),
  smbios: hex("44454c4c420010358052b2c04f4e3432"),
  reversed: hex("32344e4fc0b2528010354200 44454c4c".replace(" ", "")),
} as const;

describe("System GUID byte orders", () => {
  test.each(Object.entries(WIRE))("%s bytes match the uuid, in that order only", (order, bytes) => {
    expect(matchGuid(bytes, UUID)).toBe(order as keyof typeof WIRE);
    expect(guidString(bytes, order as keyof typeof WIRE)).toBe(UUID);
  });

  test("upper case and missing dashes in the uuid do not matter", () => {
    expect(matchGuid(WIRE.smbios, UUID.toUpperCase())).toBe("smbios");
    expect(matchGuid(WIRE.smbios, UUID.replace(/-/g, ""))).toBe("smbios");
  });

  test("another machine's GUID matches in no order", () => {
    expect(matchGuid(WIRE.smbios, "4c4c4544-0042-3510-8052-b2c04f4e3433")).toBeUndefined();
    expect(matchGuid(hex("00112233445566778899aabbccddeeff"), UUID)).toBeUndefined();
  });

  test("toRfcBytes inverts each order", () => {
    for (const [order, bytes] of Object.entries(WIRE)) expect(toRfcBytes(bytes, order as keyof typeof WIRE)).toEqual(WIRE.rfc4122);
    expect(() => toRfcBytes(new Uint8Array(15), "smbios")).toThrow(/16 bytes/);
  });

  test("blank GUIDs and malformed uuids identify nothing", () => {
    expect(isBlankGuid(new Uint8Array(16))).toBe(true);
    expect(isBlankGuid(new Uint8Array(16).fill(0xff))).toBe(true);
    expect(isBlankGuid(WIRE.smbios)).toBe(false);
    expect(normalizeUuid("not-a-uuid")).toBeUndefined();
    expect(matchGuid(WIRE.smbios, "not-a-uuid")).toBeUndefined();
  });
});
