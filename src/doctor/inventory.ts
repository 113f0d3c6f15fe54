// The facts the checks judge, read once from every endpoint. Checks are pure functions of
// these records, so each rule can be tested on hand-made facts as well as on the simulator.
import type { MoRef } from "../vsphere/soap/types.ts";

export interface EndpointFacts {
  name: string;
  url: string;
  kind: "vcenter" | "esxi";
  version: string;
  build: string;
  fullName: string;
}

export interface HbaFacts {
  device: string;
  driver: string;
  model: string;
}

export interface LunFacts {
  canonicalName: string;
  lunType: string;
  displayName: string;
}

export interface ServiceFacts {
  key: string;
  running: boolean;
  policy: string;
}

export interface DatastoreFacts {
  name: string;
  /** summary.url: ds:///vmfs/volumes/<uuid>/ on ESXi; the simulator uses the directory path. */
  url: string;
  accessible: boolean;
  type: string;
}

export interface EventFacts {
  /** Endpoint the event was read from. */
  endpoint: string;
  key: string;
  /** xsi:type: EventEx, VmPoweredOnEvent, … */
  type: string;
  eventTypeId?: string;
  createdTime?: string;
  message: string;
  hostName?: string;
  hostRef?: MoRef;
  /** true for a host's configIssue (current), false for the event log (history). */
  configIssue: boolean;
}

export interface HostView {
  endpoint: string;
  ref: MoRef;
  name: string;
}

export interface HostFacts {
  /** Stable identity across endpoints: the hardware uuid when known, else endpoint/moref. */
  key: string;
  /** Endpoint the facts were read from (vCenter when the host is seen both ways). */
  endpoint: string;
  /** Every endpoint that showed this host (vCenter and/or the host itself), with its moref and name there. */
  seenThrough: HostView[];
  ref: MoRef;
  name: string;
  /** host.domain from the DNS config, when set. */
  fqdn?: string;
  hardwareUuid?: string;
  version: string;
  build: string;
  /** Cluster (ClusterComputeResource) the host belongs to, if any. */
  cluster?: { ref: MoRef; name: string; evcMode?: string };
  connectionState?: string;
  inMaintenanceMode?: boolean;
  /** config.featureCapability key → value; undefined when the host did not report it. */
  featureCapability?: Record<string, string>;
  hbas: HbaFacts[];
  luns: LunFacts[];
  /** undefined: the service list could not be read. */
  services?: ServiceFacts[];
  /** Firewall ruleset key → enabled; undefined: not readable. */
  firewall?: Record<string, boolean>;
  configIssues: EventFacts[];
  datastores: DatastoreFacts[];
  /** Names of the host's standard-vSwitch portgroups (config.network.portgroup[].spec.name). */
  standardPortgroups: string[];
}

export interface VmFacts {
  endpoint: string;
  ref: MoRef;
  name: string;
  powerState?: string;
  /** HostFacts.key of runtime.host, when that host is known. */
  hostKey?: string;
  hostName?: string;
  /** runtime.featureRequirement key → value. */
  featureRequirement: Record<string, string>;
}

export interface ClusterFacts {
  endpoint: string;
  ref: MoRef;
  name: string;
  evcMode?: string;
}

export interface Inventory {
  endpoints: EndpointFacts[];
  /** Endpoints that could not be read, with the reason. */
  /** kind "unknown": a flag-given endpoint that never answered. */
  unreachable: { name: string; url: string; kind: "vcenter" | "esxi" | "unknown"; error: string }[];
  hosts: HostFacts[];
  vms: VmFacts[];
  clusters: ClusterFacts[];
  /** Recent events from every endpoint (history; configIssues live on the hosts). */
  events: EventFacts[];
  /** Parts of a reachable endpoint that could not be read: "vc1: events: NotImplemented: …". */
  readErrors: string[];
}
