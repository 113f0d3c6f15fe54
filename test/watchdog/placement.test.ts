import { describe, expect, test } from "bun:test";
import { rewriteDatastorePath, parseDatastorePath, normalizeDatastoreUrl } from "../../src/watchdog/datastore-path.ts";
import { type CandidateFacts, chooseTarget } from "../../src/watchdog/placement.ts";
import { locateVm, type HostView, type Registration, sameVmx } from "../../src/watchdog/learn.ts";
import { isHostPort, parseHostPort } from "../../src/watchdog/probe.ts";
import { parseDuration } from "../../src/watchdog/pause.ts";
import { FailoverError } from "../../src/errors.ts";

const URL_A = "ds:///vmfs/volumes/5f1a-aaaa/";
const URL_B = "ds:///vmfs/volumes/5f1a-bbbb/";
const GiB = 1024 ** 3;

describe("datastore paths", () => {
  test.each([
    ["[shared-ds] vcsa/vcsa.vmx", "shared-ds", "vcsa/vcsa.vmx"],
    ["[datastore 1 (2)] vcsa/vcsa.vmx", "datastore 1 (2)", "vcsa/vcsa.vmx"],
    ["[ds]vcsa/vcsa.vmx", "ds", "vcsa/vcsa.vmx"],
    ["  [ds] /x.vmx ", "ds", "x.vmx"],
  ])("parse %p", (path, datastore, file) => {
    expect(parseDatastorePath(path)).toEqual({ datastore, file });
  });

  test.each(["vcsa/vcsa.vmx", "[ds]", "[] x.vmx", ""])("reject %p", (path) => {
    expect(() => parseDatastorePath(path)).toThrow(FailoverError);
  });

  test.each([
    // learned on one host, rewritten with the other host's name for the same URL
    ["[esx01-shared] vcsa/vcsa.vmx", URL_A, [{ name: "shared", url: URL_A }], "[shared] vcsa/vcsa.vmx"],
    ["[shared] vcsa/vcsa.vmx", URL_A, [{ name: "other", url: URL_B }, { name: "shared (1)", url: URL_A.replace(/\/$/, "") }], "[shared (1)] vcsa/vcsa.vmx"],
    ["[a] dir with space/x.vmx", URL_B, [{ name: "b", url: URL_B }], "[b] dir with space/x.vmx"],
  ])("rewrite %p via %s", (path, url, list, want) => {
    expect(rewriteDatastorePath(path, url, list)).toBe(want);
  });

  test("a host without the datastore gets a no_datastore error", () => {
    try {
      rewriteDatastorePath("[a] x/x.vmx", URL_A, [{ name: "b", url: URL_B }], "esx03");
      throw new Error("expected a FailoverError");
    } catch (err) {
      expect(err).toBeInstanceOf(FailoverError);
      expect((err as FailoverError).reason).toBe("no_datastore");
      expect((err as Error).message).toContain("esx03");
    }
  });

  test("URLs compare without the trailing slash", () => {
    expect(normalizeDatastoreUrl(URL_A)).toBe(normalizeDatastoreUrl(URL_A.slice(0, -1)));
  });
});

describe("target choice", () => {
  const ds = [{ name: "shared", url: URL_A, accessible: true }];
  const host = (h: string, patch: Partial<CandidateFacts> = {}): CandidateFacts => ({
    host: h,
    healthy: true,
    connectionState: "connected",
    inMaintenanceMode: false,
    freeMemoryBytes: 8 * GiB,
    datastores: ds,
    networks: ["VM Network"],
    ...patch,
  });
  const choose = (candidates: CandidateFacts[], selfHost?: string) =>
    chooseTarget({ candidates, failedHost: "esx01", selfHost, datastoreUrl: URL_A, networks: ["VM Network"] });

  test.each<[string, CandidateFacts[], string | undefined, string | undefined]>([
    ["most free memory wins", [host("esx02", { freeMemoryBytes: 4 * GiB }), host("esx03", { freeMemoryBytes: 16 * GiB })], undefined, "esx03"],
    ["tie: by host name, whatever the order given", [host("esx03"), host("esx02")], undefined, "esx02"],
    ["the failed host is never chosen", [host("esx01", { freeMemoryBytes: 64 * GiB }), host("esx02")], undefined, "esx02"],
    ["self_host excluded (anti-affinity)", [host("esx02", { freeMemoryBytes: 64 * GiB }), host("esx03")], "esx02", "esx03"],
    ["host without the datastore skipped", [host("esx02", { freeMemoryBytes: 64 * GiB, datastores: [{ name: "local", url: URL_B }] }), host("esx03")], undefined, "esx03"],
    ["inaccessible datastore skipped", [host("esx02", { freeMemoryBytes: 64 * GiB, datastores: [{ ...ds[0]!, accessible: false }] }), host("esx03")], undefined, "esx03"],
    ["maintenance mode skipped", [host("esx02", { freeMemoryBytes: 64 * GiB, inMaintenanceMode: true }), host("esx03")], undefined, "esx03"],
    ["disconnected skipped", [host("esx02", { freeMemoryBytes: 64 * GiB, connectionState: "notResponding" }), host("esx03")], undefined, "esx03"],
    ["unhealthy skipped", [host("esx02", { freeMemoryBytes: 64 * GiB, healthy: false }), host("esx03")], undefined, "esx03"],
    ["unreadable skipped", [host("esx02", { error: "timeout" }), host("esx03")], undefined, "esx03"],
    ["missing network ranks lower", [host("esx02", { freeMemoryBytes: 64 * GiB, networks: [] }), host("esx03")], undefined, "esx03"],
    ["nobody eligible", [host("esx02", { inMaintenanceMode: true })], undefined, undefined],
  ])("%s", (_n, candidates, selfHost, want) => {
    expect(choose(candidates, selfHost).chosen).toBe(want);
  });

  test("the choice does not depend on the candidates' order", () => {
    const a = [host("esx02"), host("esx03"), host("esx04")];
    expect(choose(a).chosen).toBe(choose([...a].reverse()).chosen);
  });

  test.each<[string, CandidateFacts[], string | undefined, string[]]>([
    ["all networks there", [host("esx02", { networks: ["VM Network", "Mgmt"] })], "esx02", []],
    ["the only eligible host lacks one", [host("esx02", { networks: [] })], "esx02", ["VM Network"]],
    ["nobody eligible", [host("esx02", { inMaintenanceMode: true })], undefined, []],
  ])("missing networks of the chosen host: %s", (_n, candidates, chosen, missing) => {
    const r = choose(candidates);
    expect([r.chosen, r.missingNetworks]).toEqual([chosen, missing]);
  });

  test("every rejection carries its reason", () => {
    const r = choose([host("esx02", { datastores: [] }), host("esx03", { inMaintenanceMode: true })]);
    expect(r.rejected).toEqual([
      { host: "esx02", reason: `it does not mount the datastore ${URL_A}` },
      { host: "esx03", reason: "it is in maintenance mode" },
    ]);
  });
});

describe("locating the VM", () => {
  const reg = (name: string, vmxPath: string, powerState: Registration["powerState"], ref = "1"): Registration => ({ ref: { type: "VirtualMachine", value: ref }, name, vmxPath, powerState, networks: [] });
  const view = (host: string, dsName: string, regs: Registration[]): HostView => ({ host, datastores: [{ name: dsName, url: URL_A }], registrations: regs });
  const order = ["esx01", "esx02"];

  test("by name before anything is learned, preferring the powered-on copy", () => {
    const out = locateVm([view("esx01", "s1", [reg("vcsa", "[s1] vcsa/vcsa.vmx", "poweredOff")]), view("esx02", "s2", [reg("vcsa", "[s2] vcsa/vcsa.vmx", "poweredOn")])], "vcsa", undefined, order);
    expect(out.kind === "learned" && [out.host, out.datastoreUrl]).toEqual(["esx02", URL_A]);
  });

  test("two powered-on copies are split brain", () => {
    const out = locateVm([view("esx01", "s", [reg("vcsa", "[s] vcsa/vcsa.vmx", "poweredOn")]), view("esx02", "s", [reg("vcsa", "[s] vcsa/vcsa.vmx", "poweredOn")])], "vcsa", undefined, order);
    expect(out).toEqual({ kind: "split_brain", hosts: ["esx01", "esx02"] });
  });

  test("once learned, by vmx file rather than by name", () => {
    const previous = { version: 1 as const, vm: "vcsa", host: "esx01", ref: { type: "VirtualMachine", value: "1" }, powerState: "poweredOn" as const, vmxPath: "[s1] vcsa/vcsa.vmx", datastoreUrl: URL_A, networks: [], datastores: {}, learnedAt: "" };
    const out = locateVm([view("esx02", "s2", [reg("renamed", "[s2] vcsa/vcsa.vmx", "poweredOn", "9"), reg("vcsa", "[s2] other/vcsa.vmx", "poweredOn", "8")])], "vcsa", previous, order);
    expect(out.kind === "learned" && [out.host, out.reg.ref.value]).toEqual(["esx02", "9"]);
  });

  test.each([
    ["[s] vcsa/vcsa.vmx", true],
    ["[s] vcsa/other.vmx", false],
    ["[t] vcsa/vcsa.vmx", false],
  ])("sameVmx %p", (path, same) => {
    expect(sameVmx({ vmxPath: path }, [{ name: "s", url: URL_A }, { name: "t", url: URL_B }], URL_A, "[x] vcsa/vcsa.vmx")).toBe(same);
  });
});

describe("probe helpers", () => {
  test.each([
    ["192.0.2.1:443", true],
    ["[2001:db8::1]:443", true],
    ["gw.example:53", true],
    ["192.0.2.1", false],
    ["2001:db8::1", false],
    ["fe80::443", false],
  ])("isHostPort %p → %p", (a, want) => {
    expect(isHostPort(a)).toBe(want);
  });

  test.each(["host", "host:0", "host:70000", "[::1]", "a b:1"])("parseHostPort rejects %p", (t) => {
    expect(() => parseHostPort(t, "vm_probe")).toThrow(/vm_probe/);
  });

  test.each([
    ["2h", 7_200_000],
    ["30m", 1_800_000],
    ["1h30m", 5_400_000],
    ["90s", 90_000],
    ["1500ms", 1500],
  ])("parseDuration %p", (t, ms) => {
    expect(parseDuration(t)).toBe(ms);
  });

  test.each(["", "2", "2x", "h", "0s", "1h 30m"])("parseDuration rejects %p", (t) => {
    expect(() => parseDuration(t)).toThrow(/duration/);
  });
});
