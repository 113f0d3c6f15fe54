import { describe, expect, test } from "bun:test";
import { SoapEncodeError } from "../../src/errors.ts";
import { decodeValue } from "../../src/vsphere/soap/decode.ts";
import { buildRequest, encodeField } from "../../src/vsphere/soap/envelope.ts";
import type { MoRef, SoapValue } from "../../src/vsphere/soap/types.ts";
import type { XmlElement } from "../../src/vsphere/xml/parse.ts";
import { parseXml } from "../../src/vsphere/xml/parse.ts";
import { plainFromOurs, plainFromSaxes } from "../support/vsphere/xml-trees.ts";

const pc: MoRef = { type: "PropertyCollector", value: "propertyCollector" };
/** The method element of a request, parsed back. */
function method(xml: string): XmlElement {
  const env = parseXml(xml);
  expect(plainFromOurs(env)).toEqual(plainFromSaxes(xml));
  return env.children[0]!.children[0]!;
}

describe("buildRequest", () => {
  test("envelope, body, method in urn:vim25, _this first", () => {
    const xml = buildRequest("RetrievePropertiesEx", pc, [["specSet", { propSet: { type: "VirtualMachine", all: false } }]]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const env = parseXml(xml);
    expect([env.local, env.ns]).toEqual(["Envelope", "http://schemas.xmlsoap.org/soap/envelope/"]);
    expect([env.children[0]!.local, env.children[0]!.ns]).toEqual(["Body", "http://schemas.xmlsoap.org/soap/envelope/"]);
    const m = method(xml);
    expect([m.local, m.ns]).toEqual(["RetrievePropertiesEx", "urn:vim25"]);
    expect(m.children.map((c) => c.local)).toEqual(["_this", "specSet"]);
    expect(m.children[0]!.attrs.type).toBe("PropertyCollector");
    expect(m.children[0]!.text).toBe("propertyCollector");
  });

  test.each<[string, SoapValue, string]>([
    ["string", "x", "<f>x</f>"],
    ["empty string", "", "<f></f>"],
    ["number", 42, "<f>42</f>"],
    ["negative float", -1.5, "<f>-1.5</f>"],
    ["true", true, "<f>true</f>"],
    ["false", false, "<f>false</f>"],
    ["undefined is omitted", undefined, ""],
    ["null is omitted", null, ""],
    ["array as repeated elements", ["a", "b"], "<f>a</f><f>b</f>"],
    ["empty array is omitted", [], ""],
    ["MoRef", { type: "VirtualMachine", value: "vm-1" }, '<f type="VirtualMachine">vm-1</f>'],
    ["MoRef with explicit $type", { $type: "ManagedObjectReference", type: "Folder", value: "g" }, '<f xsi:type="ManagedObjectReference" type="Folder">g</f>'],
    ["MoRef array", [{ type: "Datastore", value: "d1" }, { type: "Datastore", value: "d2" }], '<f type="Datastore">d1</f><f type="Datastore">d2</f>'],
    ["data object keeps field order", { b: "1", a: "2", c: true }, "<f><b>1</b><a>2</a><c>true</c></f>"],
    ["data object with xsi:type", { $type: "TraversalSpec", name: "t", type: "ContainerView", path: "view", skip: false }, '<f xsi:type="TraversalSpec"><name>t</name><type>ContainerView</type><path>view</path><skip>false</skip></f>'],
    ["nested objects and omitted fields", { a: { $type: "X", b: undefined, c: null, d: [1, 2] } }, '<f><a xsi:type="X"><d>1</d><d>2</d></a></f>'],
    ["typed leaf for anyType fields", { $type: "xsd:string", $value: "a&b" }, '<f xsi:type="xsd:string">a&amp;b</f>'],
    ["typed int leaf", { $type: "xsd:int", $value: 5 }, '<f xsi:type="xsd:int">5</f>'],
    ["text escaping", `a&b<c>d"e'f`, "<f>a&amp;b&lt;c&gt;d&quot;e&apos;f</f>"],
    ["CR kept as a reference", "a\r\nb", "<f>a&#13;\nb</f>"],
    ["attribute escaping in MoRef type", { type: `T"<&'>`, value: "v" }, '<f type="T&quot;&lt;&amp;&apos;&gt;">v</f>'],
    ["tab and newline in an attribute", { type: "a\tb\nc", value: "v" }, '<f type="a&#9;b&#10;c">v</f>'],
    ["emoji (a surrogate pair) passes", "\u{1F600}", "<f>\u{1F600}</f>"],
  ])("encodes %s", (_name, value, expected) => {
    expect(encodeField("f", value)).toBe(expected);
  });

  test.each<[string, () => unknown]>([
    ["NUL in text", () => encodeField("f", "a\u0000b")],
    ["C0 control in text", () => encodeField("f", "\u001b[31m")],
    ["control character in a MoRef value", () => buildRequest("M", { type: "X", value: "\u0008" })],
    ["control character in an attribute", () => encodeField("f", { type: "X\u0001", value: "v" })],
    ["U+FFFF", () => encodeField("f", "\uFFFF")],
    ["unpaired high surrogate", () => encodeField("f", "a\uD83D")],
    ["unpaired low surrogate", () => encodeField("f", "\uDE00b")],
    ["NaN", () => encodeField("f", Number.NaN)],
    ["Infinity", () => encodeField("f", Number.POSITIVE_INFINITY)],
    ["nested arrays", () => encodeField("f", [["a"]])],
    ["bad element name", () => encodeField("a b", "x")],
    ["element name with markup", () => encodeField("a><b", "x")],
    ["bad method name", () => buildRequest("Foo<", pc)],
    ["bad xsi:type", () => encodeField("f", { $type: 'X" onload="', a: "1" })],
    ["object $value without $type", () => encodeField("f", { $value: "x" })],
    ["_this without a type", () => buildRequest("M", { type: "", value: "x" })],
  ])("rejects %s with SoapEncodeError", (_name, fn) => {
    expect(fn).toThrow(SoapEncodeError);
  });

  test.each<[string, string]>([
    ["markup characters", `<tag attr="v">&amp; 'q' "d"</tag>`],
    ["whitespace", " \t lead and trail \n\r\n"],
    ["unicode", "café € \u{1F600} 中文"],
    ["entity-looking text", "&lt; &#65; &bogus;"],
    ["CDATA terminator", "a]]>b"],
  ])("string round trip through our parser and saxes: %s", (_name, s) => {
    const m = method(buildRequest("M", { type: `T${s.trim().slice(0, 3)}`, value: s }, [["v", s]]));
    expect(m.children[0]!.text).toBe(s);
    expect(m.children[0]!.attrs.type).toBe(`T${s.trim().slice(0, 3)}`);
    expect(m.children[1]!.text).toBe(s);
  });

  test("a data object decodes back to itself", () => {
    const spec = {
      $type: "VirtualMachineConfigSpec",
      name: "db & <app>",
      bootOptions: { $type: "VirtualMachineBootOptions", bootOrder: [{ $type: "VirtualMachineBootOptionsBootableDiskDevice", deviceKey: "2000" }] },
      extraConfig: [
        { $type: "OptionValue", key: "a", value: "1" },
        { $type: "OptionValue", key: "b", value: "2" },
      ],
    };
    const m = method(buildRequest("ReconfigVM_Task", { type: "VirtualMachine", value: "vm-1" }, [["spec", spec]]));
    const decoded = decodeValue(m.children[1]!) as typeof spec;
    expect(decoded).toEqual({ ...spec, bootOptions: { ...spec.bootOptions, bootOrder: spec.bootOptions.bootOrder[0]! } } as never);
    expect(Object.keys(decoded)).toEqual(Object.keys(spec));
  });
});
