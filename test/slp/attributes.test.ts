// Attribute lists (RFC 2608 §5), tag lists (§9.4), the normaliser and the lsi-msm profile.
import { describe, expect, test } from "bun:test";
import { SlpSyntaxError } from "../../src/errors.ts";
import {
  type Attribute,
  compileTagList,
  escapeValue,
  filterByTags,
  mergeAttributes,
  Opaque,
  parseAttrList,
  serializeAttrList,
  unescape,
} from "../../src/slp/attributes.ts";
import { applyOverrides, normaliseAttributes, parseCapturedAttributes, WBEM_TEMPLATE_ORDER } from "../../src/slp/normalise.ts";
import { buildEntries } from "../../src/slp/entries.ts";
import { LSI_MSM_NAMESPACES, lsiMsmProfile } from "../../src/slp/profile-lsi-msm.ts";
import { slpConfig } from "../support/slp/config.ts";

describe("escaping", () => {
  test.each([
    ["a,b", "a\\2cb"],
    ["(x)", "\\28x\\29"],
    ["back\\slash", "back\\5cslash"],
    ["a=b<c>d~e!f", "a\\3db\\3cc\\3ed\\7ee\\21f"],
    ["tab\there", "tab\\09here"],
    ["plain text/with:colons", "plain text/with:colons"],
  ])("%j escapes to %j and back", (plain, wire) => {
    expect(escapeValue(plain)).toBe(wire);
    expect(unescape(wire, "v")).toBe(plain);
  });

  test("a backslash without two hex digits is a syntax error in strict mode", () => {
    expect(() => unescape("a\\zz", "v")).toThrow(SlpSyntaxError);
    expect(unescape("a\\zz", "v", 0, true)).toBe("a\\zz");
  });
});

describe("attribute lists", () => {
  test("parse and serialize round trip, with keywords, opaques and escapes", () => {
    const wire = "(Namespace=root/interop,lsi/lsimr13),(x=a\\2cb),flag,(blob=\\FF\\00\\01),(n=-42)";
    const attrs = parseAttrList(wire);
    expect(attrs).toEqual([
      { tag: "Namespace", values: ["root/interop", "lsi/lsimr13"] },
      { tag: "x", values: ["a,b"] },
      { tag: "flag", values: null },
      { tag: "blob", values: [new Opaque(new Uint8Array([0, 1]))] },
      { tag: "n", values: ["-42"] },
    ]);
    expect(serializeAttrList(attrs).toLowerCase()).toBe(wire.toLowerCase());
  });

  test.each([
    ["(a=b", "unbalanced"],
    ["(ab)", "without '='"],
    ["(a=b)x", "expected ','"],
    ["(a=(b))", "unescaped '('"],
    ["(a=b),,c", "empty item"],
    ["(=b)", "empty attribute tag"],
  ])("strict parse refuses %j", (s, msg) => {
    expect(() => parseAttrList(s)).toThrow(msg);
  });

  test("lenient parse reads what sfcb sends (never escaped)", () => {
    const sfcb = "(service-hi-description=Small Footprint CIM Broker (sfcb) 1.3),(x=a=b),kw,(Namespace=root/interop)";
    expect(parseAttrList(sfcb, { lenient: true })).toEqual([
      { tag: "service-hi-description", values: ["Small Footprint CIM Broker (sfcb) 1.3"] },
      { tag: "x", values: ["a=b"] },
      { tag: "kw", values: null },
      { tag: "Namespace", values: ["root/interop"] },
    ]);
  });

  test("merging keeps one copy of each tag and value, case- and white-space-insensitively (RFC 2608 §10.4)", () => {
    const m = mergeAttributes([parseAttrList("(A=a a,b),x-OK"), parseAttrList("(a=A   A,B,c),x-BUSY")]);
    expect(serializeAttrList(m)).toBe("(A=a a,b,c),x-OK,x-BUSY");
  });

  test("tag lists match with wildcards, case-insensitively (RFC 2608 §9.4 example)", () => {
    const attrs: Attribute[] = parseAttrList("(location-description=12th floor),(resolution=res-600),(Name=Igore),x-OK");
    expect(filterByTags(attrs, "resolution,loc*").map((a) => a.tag)).toEqual(["location-description", "resolution"]);
    expect(filterByTags(attrs, "x-*").map((a) => a.tag)).toEqual(["x-OK"]);
    expect(filterByTags(attrs, "").length).toBe(4);
    const m = compileTagList("*bob*");
    for (const t of ["some bob I know", "bigbob", "bobby", "bob"]) expect(m(t)).toBe(true);
    expect(m("bo b")).toBe(false);
  });
});

describe("normaliser", () => {
  // The broken ESXi 6.5 reply from the notes (§2), as sfcb sent it.
  const broken =
    "(MultipleOperationsSupported=false),(AuthenticationMechanismsSupported=Basic)," +
    "(Namespace=root/interop,interop,root/hpq,root/cimv2,root/config,vmware/esxv2),(Namespace=root/cimv2,root/interop,root/config,vmware/esxv2)," +
    "(Classinfo=0,0,0,0),(ProtocolVersion=1.0),(RegisteredProfilesSupported=DMTF:Sensors,DMTF:Base Server,DMTF:Profile Registration,DMTF:Battery,)";

  test("repairs the broken ESXi 6.5 reply: one Namespace, one Classinfo per namespace, no empty values, template order", () => {
    const { attributes, changes } = normaliseAttributes(parseCapturedAttributes(broken));
    const byTag = Object.fromEntries(attributes.map((a) => [a.tag, a.values]));
    expect(attributes.filter((a) => a.tag === "Namespace").length).toBe(1);
    expect(byTag.Namespace).toEqual(["root/interop", "interop", "root/hpq", "root/cimv2", "root/config", "vmware/esxv2"]);
    expect(byTag.Classinfo).toEqual(["0", "0", "0", "0", "0", "0"]);
    expect(byTag.RegisteredProfilesSupported).toEqual(["DMTF:Sensors", "DMTF:Base Server", "DMTF:Profile Registration", "DMTF:Battery"]);
    const order = attributes.map((a) => WBEM_TEMPLATE_ORDER.indexOf(a.tag));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(changes.join("\n")).toContain("merged 2 copies of namespace");
    expect(changes.join("\n")).toContain("Classinfo had 4 entries for 6 namespaces");
    // What goes on the wire parses strictly.
    expect(parseAttrList(serializeAttrList(attributes))).toEqual(attributes);
  });

  test("escapes reserved characters on the way out", () => {
    const { attributes } = normaliseAttributes(parseCapturedAttributes("(service-hi-description=Broker (sfcb), v1)"));
    expect(serializeAttrList(attributes)).toBe("(service-hi-description=Broker \\28sfcb\\29, v1)");
  });

  test("a healthy list comes out unchanged", () => {
    const profile = lsiMsmProfile("esx01.example.local", "service:wbem:https://esx01.example.local:5989");
    const { attributes, changes } = normaliseAttributes(profile);
    expect(changes).toEqual([]);
    expect(attributes).toEqual(profile);
  });

  test("overrides replace, remove and add tags", () => {
    const base = parseAttrList("(a=1),(b=2),(c=3)");
    expect(serializeAttrList(applyOverrides(base, { B: ["x", "y"], c: [], d: ["4"] }))).toBe("(a=1),(b=x,y),(d=4)");
  });

  test("captured files: comment lines skipped, several replies merged", () => {
    const text = "# esxkit slp attrs service:wbem\n# from 10.0.0.5\n(a=1),(b=2)\n\n# from 10.0.0.6\n(a=1),(c=3)\n";
    expect(serializeAttrList(normaliseAttributes(parseCapturedAttributes(text)).attributes)).toBe("(a=1),(b=2),(c=3)");
  });
});

describe("lsi-msm profile", () => {
  const attrs = lsiMsmProfile("esxi-main.example.jp", "service:wbem:https://esxi-main.example.jp:5989");
  const byTag = Object.fromEntries(attrs.map((a) => [a.tag, a.values as string[]]));

  test("carries every DSP0206 template attribute, in sfcb's order", () => {
    const tags = attrs.map((a) => a.tag);
    expect(tags).toEqual(WBEM_TEMPLATE_ORDER.filter((t) => t !== "OtherCommunicationMechanismDescription"));
  });

  test("advertises the LSI namespace and RAID profiles, with one Classinfo per Namespace", () => {
    expect(byTag.Namespace).toContain("lsi/lsimr13");
    expect(byTag.Classinfo?.length).toBe(LSI_MSM_NAMESPACES.length);
    expect(byTag.RegisteredProfilesSupported?.some((p) => p.includes("RAID"))).toBe(true);
    expect(byTag["template-url-syntax"]).toEqual(["https://esxi-main.example.jp:5989"]);
    expect(byTag.AuthenticationMechansimDescriptions).toEqual(["Basic"]);
  });

  test("the service-id is stable for a host and differs between hosts", () => {
    const again = lsiMsmProfile("ESXI-MAIN.example.jp", "service:wbem:https://esxi-main.example.jp:5989");
    const other = lsiMsmProfile("esxi-other.example.jp", "service:wbem:https://esxi-other.example.jp:5989");
    const id = (a: Attribute[]) => a.find((x) => x.tag === "service-id")?.values?.[0];
    expect(id(again)).toBe(id(attrs));
    expect(id(other)).not.toBe(id(attrs));
  });
});

describe("vmware_infrastructure entry", () => {
  const listOf = (over: Record<string, string[]>, on = true) => {
    const entries = buildEntries(slpConfig({ vmware_infrastructure: on, attributes: over }));
    return { wbem: new TextDecoder().decode(entries[0]!.attrListBytes), vmware: entries[1] && new TextDecoder().decode(entries[1].attrListBytes), count: entries.length };
  };

  test("product and hardwareUuid overrides go to service:VMwareInfrastructure, quoted as hostd writes them, and not to service:wbem", () => {
    const r = listOf({ product: ["VMware ESXi 8.0.3 build-24022510"], HARDWAREUUID: ['"30313436-3631-584D-5133-343230505032"'], "x-extra": ["1"] });
    expect(r.vmware).toBe('(product="VMware ESXi 8.0.3 build-24022510"),(hardwareUuid="30313436-3631-584D-5133-343230505032")');
    expect(r.wbem).not.toContain("product");
    expect(r.wbem).toEndWith("(x-extra=1)");
  });

  test("an empty list removes the tag; the default uuid is stable per host; off means no entry and plain wbem overrides", () => {
    expect(listOf({ hardwareUuid: [] }).vmware).toBe('(product="VMware ESXi")');
    expect(listOf({}).vmware).toBe(listOf({}).vmware);
    const off = listOf({ product: ["x"] }, false);
    expect(off.count).toBe(1);
    expect(off.wbem).toEndWith("(product=x)");
  });
});
