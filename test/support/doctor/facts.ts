// Hand-made inventory records for the doctor's rule tests: only what a test sets differs from a
// plain, healthy ESXi 7.0 U3 host in cluster "C1" of vCenter "vc".
import type { ClusterFacts, EndpointFacts, EventFacts, HostFacts, Inventory, VmFacts } from "../../../src/doctor/inventory.ts";

export function vcenter(over: Partial<EndpointFacts> = {}): EndpointFacts {
  return { name: "vc", url: "https://vc/sdk", kind: "vcenter", version: "7.0.3", build: "20395099", fullName: "VMware vCenter Server 7.0.3", ...over };
}

export function host(name: string, over: Partial<HostFacts> = {}): HostFacts {
  const endpoint = over.endpoint ?? "vc";
  const ref = over.ref ?? { type: "HostSystem", value: `host-${name}` };
  return {
    key: `uuid:${name}`,
    endpoint,
    seenThrough: [{ endpoint, ref, name }],
    ref,
    name,
    hardwareUuid: name,
    version: "7.0.3",
    build: "18644231",
    cluster: { ref: { type: "ClusterComputeResource", value: "c1" }, name: "C1" },
    connectionState: "connected",
    featureCapability: { "cpuid.MDCLEAR": "1", "cpuid.SSE3": "1" },
    hbas: [{ device: "vmhba0", driver: "lsi_msgpt3", model: "SAS3008" }],
    luns: [{ canonicalName: "naa.600508b1001c", lunType: "disk", displayName: "Local disk" }],
    services: [{ key: "slpd", running: true, policy: "on" }],
    firewall: { CIMSLP: true },
    configIssues: [],
    datastores: [{ name: "ds1", url: "ds:///vmfs/volumes/aaaa/", accessible: true, type: "VMFS" }],
    standardPortgroups: ["VM Network", "Management Network"],
    ...over,
  };
}

/** The USB boot device shape ESXi shows: a vmkusb adapter with an mpx disk on it. */
export const usbBoot: Pick<HostFacts, "hbas" | "luns"> = {
  hbas: [
    { device: "vmhba0", driver: "lsi_msgpt3", model: "SAS3008" },
    { device: "vmhba32", driver: "vmkusb", model: "USB" },
  ],
  luns: [
    { canonicalName: "naa.600508b1001c", lunType: "disk", displayName: "Local disk" },
    { canonicalName: "mpx.vmhba32:C0:T0:L0", lunType: "disk", displayName: "Local USB Direct-Access (mpx.vmhba32:C0:T0:L0)" },
  ],
};

export function vm(name: string, hostName: string, over: Partial<VmFacts> = {}): VmFacts {
  return {
    endpoint: "vc",
    ref: { type: "VirtualMachine", value: `vm-${name}` },
    name,
    powerState: "poweredOn",
    hostKey: `uuid:${hostName}`,
    hostName,
    featureRequirement: {},
    ...over,
  };
}

export function event(hostName: string, eventTypeId: string, over: Partial<EventFacts> = {}): EventFacts {
  return {
    endpoint: "vc",
    key: String(Math.floor(Math.random() * 1e6)),
    type: "EventEx",
    eventTypeId,
    createdTime: "2026-11-20T10:00:00Z",
    message: eventTypeId,
    hostName,
    hostRef: { type: "HostSystem", value: `host-${hostName}` },
    configIssue: false,
    ...over,
  };
}

export function inventory(over: Partial<Inventory> = {}): Inventory {
  const clusters: ClusterFacts[] = [{ endpoint: "vc", ref: { type: "ClusterComputeResource", value: "c1" }, name: "C1" }];
  return { endpoints: [vcenter()], unreachable: [], hosts: [], vms: [], clusters, events: [], readErrors: [], ...over };
}
