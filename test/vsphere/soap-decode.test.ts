import { describe, expect, test } from "bun:test";
import { SoapFaultError, SoapProtocolError, XmlError } from "../../src/errors.ts";
import { asArray, decodeResponse, decodeValue, faultFromResponse, isMoRef } from "../../src/vsphere/soap/decode.ts";
import { parseXml } from "../../src/vsphere/xml/parse.ts";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const XSD = "http://www.w3.org/2001/XMLSchema";
/** A value element as vCenter writes it: xsi declared on an ancestor. */
const vc = (inner: string) => decodeValue(parseXml(`<R xmlns="urn:vim25" xmlns:xsi="${XSI}" xmlns:xsd="${XSD}">${inner}</R>`).children[0]!);
/** As the govmomi simulator writes it: XMLSchema-instance declared on the value itself. */
const sim = (type: string, inner: string, attrs = "") =>
  `<val${attrs} xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="${type}">${inner}</val>`;

describe("decodeValue: vim25 rules", () => {
  test.each<[string, string, unknown]>([
    ["untyped leaf stays a string", "<v>42</v>", "42"],
    ["untyped empty leaf is an empty string", "<v/>", ""],
    ["xsd:string", `<v xsi:type="xsd:string"> a b </v>`, " a b "],
    ["xsd:int", `<v xsi:type="xsd:int">-12</v>`, -12],
    ["xsd:long", `<v xsi:type="xsd:long">274877906944</v>`, 274877906944],
    ["xsd:short", `<v xsi:type="xsd:short">7</v>`, 7],
    ["xsd:byte", `<v xsi:type="xsd:byte">-1</v>`, -1],
    ["xsd:double", `<v xsi:type="xsd:double">1.5</v>`, 1.5],
    ["xsd:boolean true", `<v xsi:type="xsd:boolean">true</v>`, true],
    ["xsd:boolean false", `<v xsi:type="xsd:boolean">false</v>`, false],
    ["xsd:boolean 1", `<v xsi:type="xsd:boolean">1</v>`, true],
    ["xsd:dateTime stays a string", `<v xsi:type="xsd:dateTime">2024-01-15T08:12:45Z</v>`, "2024-01-15T08:12:45Z"],
    ["non-numeric xsd:int is kept as text", `<v xsi:type="xsd:int">n/a</v>`, "n/a"],
    ["enum value", `<v xsi:type="VirtualMachinePowerState">poweredOn</v>`, "poweredOn"],
    ["MoRef by type attribute", `<v type="HostSystem">host-1</v>`, { type: "HostSystem", value: "host-1" }],
    ["MoRef by xsi:type", `<v xsi:type="ManagedObjectReference" type="Datastore">ds-1</v>`, { type: "Datastore", value: "ds-1" }],
    ["MoRef with type before xsi:type", `<v type="HostSystem" xsi:type="ManagedObjectReference">host-31</v>`, { type: "HostSystem", value: "host-31" }],
    ["ArrayOfManagedObjectReference, one element", `<v xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore" xsi:type="ManagedObjectReference">ds-1</ManagedObjectReference></v>`, [{ type: "Datastore", value: "ds-1" }]],
    ["ArrayOfManagedObjectReference, two elements", `<v xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Network">n-1</ManagedObjectReference><ManagedObjectReference type="Network">n-2</ManagedObjectReference></v>`, [{ type: "Network", value: "n-1" }, { type: "Network", value: "n-2" }]],
    ["ArrayOfString, one element", `<v xsi:type="ArrayOfString"><string>10.0.0.2</string></v>`, ["10.0.0.2"]],
    ["ArrayOfInt", `<v xsi:type="ArrayOfInt"><int>6</int><int>-5</int></v>`, [6, -5]],
    ["ArrayOfLong, one element", `<v xsi:type="ArrayOfLong"><long>9007199254740991</long></v>`, [9007199254740991]],
    ["ArrayOfBoolean", `<v xsi:type="ArrayOfBoolean"><boolean>true</boolean><boolean>false</boolean></v>`, [true, false]],
    ["empty ArrayOf", `<v xsi:type="ArrayOfAlarmState"></v>`, []],
    ["ArrayOf data objects take the item type", `<v xsi:type="ArrayOfHostService"><HostService><key>TSM-SSH</key></HostService></v>`, [{ $type: "HostService", key: "TSM-SSH" }]],
    ["ArrayOf items keep their own xsi:type", `<v xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>2000</key></VirtualDevice></v>`, [{ $type: "VirtualDisk", key: "2000" }]],
    ["ArrayOfAnyType items by xsi:type", `<v xsi:type="ArrayOfAnyType"><anyType xsi:type="xsd:int">1</anyType><anyType xsi:type="xsd:string">x</anyType></v>`, [1, "x"]],
    ["data object with $type, fields in order", `<v xsi:type="AboutInfo"><name>ESXi</name><apiType>HostAgent</apiType></v>`, { $type: "AboutInfo", name: "ESXi", apiType: "HostAgent" }],
    ["untyped data object has no $type", `<v><a>1</a><b>2</b></v>`, { a: "1", b: "2" }],
    ["a repeated field becomes an array", `<v><ip>a</ip><mac>m</mac><ip>b</ip><ip>c</ip></v>`, { ip: ["a", "b", "c"], mac: "m" }],
    ["a field seen once stays a scalar", `<v><ip>a</ip></v>`, { ip: "a" }],
    ["repeated ArrayOf-valued field keeps each array", `<v><p xsi:type="ArrayOfInt"><int>1</int></p><p xsi:type="ArrayOfInt"><int>2</int></p></v>`, { p: [[1], [2]] }],
    ["typed empty data object", `<v xsi:type="VirtualMachineBootOptions"></v>`, { $type: "VirtualMachineBootOptions" }],
    ["nested typed fields", `<v xsi:type="TaskInfo"><error><fault xsi:type="FileLocked"><file>[ds] a.vmx</file></fault></error></v>`, { $type: "TaskInfo", error: { fault: { $type: "FileLocked", file: "[ds] a.vmx" } } }],
    ["entities in values", `<v xsi:type="xsd:string">a &amp; b &lt;c&gt; &#x263A;</v>`, "a & b <c> \u263A"],
    ["CDATA in values", `<v xsi:type="xsd:string"><![CDATA[<x>&amp;]]></v>`, "<x>&amp;"],
    ["comments ignored in data objects", `<v><!-- c --><a>1</a><!-- d --></v>`, { a: "1" }],
    ["__proto__ field is an own property", `<v><__proto__>x</__proto__></v>`, JSON.parse('{"__proto__":"x"}')],
  ])("%s", (_name, xml, expected) => {
    expect(vc(xml)).toEqual(expected);
  });

  test.each<[string, string, unknown]>([
    ["xsd:string", sim("xsd:string", "DC0_H0_VM0"), "DC0_H0_VM0"],
    ["xsd:boolean", sim("xsd:boolean", "false"), false],
    ["VirtualMachinePowerState", sim("VirtualMachinePowerState", "poweredOff"), "poweredOff"],
    ["ArrayOfManagedObjectReference", sim("ArrayOfManagedObjectReference", `<ManagedObjectReference type="Datastore">datastore-55</ManagedObjectReference>`), [{ type: "Datastore", value: "datastore-55" }]],
    ["ManagedObjectReference", sim("ManagedObjectReference", "host-21", ` type="HostSystem"`), { type: "HostSystem", value: "host-21" }],
    ["nested value using the ancestor's prefix", sim("LocalizedMethodFault", `<fault XMLSchema-instance:type="InvalidPowerState"><existingState>poweredOn</existingState></fault>`), { $type: "LocalizedMethodFault", fault: { $type: "InvalidPowerState", existingState: "poweredOn" } }],
  ])("simulator's XMLSchema-instance prefix: %s", (_name, xml, expected) => {
    expect(decodeValue(parseXml(xml))).toEqual(expected);
  });

  test.each<[string, string, unknown]>([
    ["a prefix named xsi bound to another URI is not xsi", `<v xmlns:xsi="urn:other" xsi:type="xsd:int">5</v>`, "5"],
    ["any prefix bound to the XSI URI is xsi", `<v xmlns:i="${XSI}" i:type="xsd:int">5</v>`, 5],
    ["an unprefixed type attribute is not xsi:type", `<v type="xsd:int">5</v>`, { type: "xsd:int", value: "5" }],
    ["xsi bound on an ancestor", `<r xmlns:q="${XSI}"><v q:type="xsd:boolean">true</v></r>`, { v: true }],
  ])("xsi:type by namespace, not by prefix: %s", (_name, xml, expected) => {
    expect(decodeValue(parseXml(xml))).toEqual(expected);
  });
});

describe("decodeResponse", () => {
  const env = (body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="${XSI}" xmlns:xsd="${XSD}">\n<soapenv:Body>\n${body}\n</soapenv:Body>\n</soapenv:Envelope>`;
  test.each<[string, string, unknown]>([
    ["no returnval", `<LogoutResponse xmlns="urn:vim25"></LogoutResponse>`, undefined],
    ["one returnval", `<FindByUuidResponse xmlns="urn:vim25"><returnval type="VirtualMachine">vm-1</returnval></FindByUuidResponse>`, { type: "VirtualMachine", value: "vm-1" }],
    ["several returnvals", `<R xmlns="urn:vim25"><returnval>a</returnval><returnval>b</returnval></R>`, ["a", "b"]],
  ])("%s", (_name, body, expected) => {
    expect(decodeResponse(env(body))).toEqual(expected);
  });

  test("a Fault in a 200 body throws SoapFaultError", () => {
    const xml = env(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>x</faultstring><detail><InvalidStateFault xmlns="urn:vim25" xsi:type="InvalidState"/></detail></soapenv:Fault>`);
    expect(() => decodeResponse(xml)).toThrow(SoapFaultError);
  });

  test.each<[string, string, new (...a: never[]) => Error]>([
    ["not an envelope", "<html><body>proxy error</body></html>", SoapProtocolError],
    ["wrong envelope namespace", `<soapenv:Envelope xmlns:soapenv="urn:x"><soapenv:Body><a/></soapenv:Body></soapenv:Envelope>`, SoapProtocolError],
    ["empty body", env(""), SoapProtocolError],
    ["malformed XML", "<soapenv:Envelope", XmlError],
  ])("%s", (_name, xml, cls) => {
    expect(() => decodeResponse(xml)).toThrow(cls);
  });
});

describe("faultFromResponse", () => {
  const fault = (detail: string, code = "ServerFaultCode", msg = "m") =>
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="${XSI}"><soapenv:Body><soapenv:Fault><faultcode>${code}</faultcode><faultstring>${msg}</faultstring>${detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
  test.each<[string, string, string, Record<string, unknown>]>([
    ["xsi:type wins", fault(`<detail><FileLockedFault xmlns="urn:vim25" xsi:type="FileLocked"><file>f</file></FileLockedFault></detail>`), "FileLocked", { $type: "FileLocked", file: "f" }],
    ["element name minus Fault", fault(`<detail><AlreadyExistsFault xmlns="urn:vim25"><name>x</name></AlreadyExistsFault></detail>`), "AlreadyExists", { $type: "AlreadyExists", name: "x" }],
    ["simulator prefix", fault(`<detail><Fault xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="TaskInProgress"><task type="Task">task-1</task></Fault></detail>`), "TaskInProgress", { $type: "TaskInProgress", task: { type: "Task", value: "task-1" } }],
    ["element named just Fault, no type", fault(`<detail><Fault/></detail>`), "Fault", { $type: "Fault" }],
    ["no detail: the fault code", fault("", "soapenv:Client"), "Client", {}],
  ])("%s", (_name, xml, faultType, detail) => {
    const err = faultFromResponse(xml);
    expect(err).toBeInstanceOf(SoapFaultError);
    expect(err.code).toBe("ESX_SOAP_FAULT");
    expect([err.faultType, err.faultString, err.detail]).toEqual([faultType, "m", detail]);
  });

  test("a 500 body without a Fault is UnknownFault", () => {
    const err = faultFromResponse(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><X/></soapenv:Body></soapenv:Envelope>`);
    expect(err.faultType).toBe("UnknownFault");
  });
});

describe("helpers", () => {
  test.each<[unknown, boolean]>([
    [{ type: "VirtualMachine", value: "vm-1" }, true],
    [{ type: "VirtualMachine", value: "vm-1", $type: "X" }, false],
    [{ type: "VirtualMachine" }, false],
    [["VirtualMachine", "vm-1"], false],
    [null, false],
    ["vm-1", false],
  ])("isMoRef(%p) = %p", (v, expected) => {
    expect(isMoRef(v)).toBe(expected);
  });

  test.each<[unknown, unknown[]]>([
    [undefined, []],
    [null, []],
    ["a", ["a"]],
    [["a", "b"], ["a", "b"]],
    [{ x: 1 }, [{ x: 1 }]],
  ])("asArray(%p)", (v, expected) => {
    expect(asArray(v)).toEqual(expected);
  });
});
