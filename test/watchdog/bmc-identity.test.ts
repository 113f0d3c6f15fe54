// The verdict on one reading of a BMC's System GUID, for each way it can go.
import { describe, expect, test } from "bun:test";
import type { PhysicalBmcConfig } from "../../src/config/types.ts";
import { fenceable, type IdentityState, judgeIdentity, mayBeFenceable } from "../../src/watchdog/bmc-identity.ts";
import type { BmcGuid } from "../../src/watchdog/fence.ts";

const HOST = "4c4c4544-0042-3510-8052-b2c04f4e3432";
const OTHER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const bmc: PhysicalBmcConfig = { address: "192.0.2.9", port: 623, username: "a", password: "b", cipher_suite: 17, privilege: "administrator" };
const hex = (s: string) => Uint8Array.from(s.replace(/-/g, "").match(/../g)!.map((b) => Number.parseInt(b, 16)));
const rfc = (u: string): BmcGuid => ({ bytes: hex(u), source: "get_system_guid" });
const reversed = (u: string): BmcGuid => ({ bytes: hex(u).reverse(), source: "get_system_guid" });

describe("judgeIdentity", () => {
  test.each<[string, BmcGuid | Error, string | undefined, string | undefined, IdentityState, RegExp | undefined]>([
    ["the host's uuid, RFC order", rfc(HOST), HOST, undefined, "verified", undefined],
    ["the host's uuid, reversed", reversed(HOST), HOST, undefined, "verified", undefined],
    ["another machine's GUID", rfc(OTHER), HOST, undefined, "mismatch", /another machine's BMC/],
    ["a pin the BMC reports", rfc(OTHER), HOST, OTHER, "pinned", undefined],
    ["a pin the BMC does not report (even if the host's uuid matches)", rfc(HOST), HOST, OTHER, "mismatch", /not the pinned bmc.guid/],
    ["a blank GUID", { bytes: new Uint8Array(16), source: "get_system_guid" }, HOST, undefined, "unidentified", /blank/],
    ["the GUID cannot be read", new Error("no answer within 5000 ms"), HOST, undefined, "unidentified", /could not be read: no answer/],
    ["the host's uuid is not known yet", rfc(HOST), undefined, undefined, "unidentified", /not known yet/],
    ["only the RAKP2 GUID, not the host's", { bytes: hex(OTHER), source: "rakp2" }, HOST, undefined, "unidentified", /bmc.guid = "/],
    ["the RAKP2 GUID is the host's", { bytes: hex(HOST), source: "rakp2" }, HOST, undefined, "verified", undefined],
  ])("%s", (_name, read, hostUuid, pin, state, reason) => {
    const id = judgeIdentity({ ...bmc, ...(pin ? { guid: pin } : {}) }, read, hostUuid, 0);
    expect(id.state).toBe(state);
    expect(id.bmc).toBe("192.0.2.9:623");
    if (reason) expect(id.reason).toMatch(reason);
    expect(fenceable(id)).toBe(state === "verified" || state === "pinned");
    expect(mayBeFenceable(id)).toBe(state !== "mismatch" && state !== "unidentified");
  });

  test("an unchecked BMC may still be fenced after the fence session verifies it, but is not fenceable yet", () => {
    expect(fenceable({ state: "unchecked", bmc: "x" })).toBe(false);
    expect(mayBeFenceable({ state: "unchecked", bmc: "x" })).toBe(true);
  });
});
