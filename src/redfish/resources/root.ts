// Service root, /redfish, the OData service document and $metadata: all public (DSP0266
// lets clients discover the service before they log in).
import type { Route } from "../context.ts";
import { link, ROOT } from "../json.ts";

/** Schema namespaces the service uses, for $metadata (DMTF CSDL, bundle 2021.2 or later). */
const SCHEMAS: Array<[string, string]> = [
  ["ServiceRoot", "v1_11_0"],
  ["ComputerSystemCollection", ""],
  ["ComputerSystem", "v1_16_0"],
  ["ManagerCollection", ""],
  ["Manager", "v1_13_0"],
  ["VirtualMediaCollection", ""],
  ["VirtualMedia", "v1_5_0"],
  ["SessionService", "v1_1_8"],
  ["SessionCollection", ""],
  ["Session", "v1_4_0"],
  ["TaskService", "v1_2_0"],
  ["TaskCollection", ""],
  ["Task", "v1_6_0"],
  ["ProcessorCollection", ""],
  ["Processor", "v1_11_0"],
  ["EthernetInterfaceCollection", ""],
  ["EthernetInterface", "v1_6_2"],
  ["SimpleStorageCollection", ""],
  ["SimpleStorage", "v1_3_0"],
  ["SecureBoot", "v1_1_0"],
  ["Message", "v1_1_1"],
  ["Resource", "v1_14_0"],
];

function metadata(): string {
  const refs = SCHEMAS.map(([ns, v]) => {
    const inc = v ? `<edmx:Include Namespace="${ns}"/><edmx:Include Namespace="${ns}.${v}"/>` : `<edmx:Include Namespace="${ns}"/>`;
    return `  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/${ns}_v1.xml">${inc}</edmx:Reference>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">`,
    ...refs,
    `  <edmx:DataServices><Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service"><EntityContainer Name="Service" Extends="ServiceRoot.v1_11_0.ServiceContainer"/></Schema></edmx:DataServices>`,
    `</edmx:Edmx>`,
    "",
  ].join("\n");
}

const TOP = ["Systems", "Managers", "SessionService", "TaskService"];

export const rootRoutes: Route[] = [
  { pattern: "/redfish", name: "Versions", public: ["GET"], methods: { GET: () => ({ body: { v1: `${ROOT}/` }, etag: false }) } },
  {
    pattern: ROOT,
    name: "ServiceRoot",
    public: ["GET"],
    methods: {
      GET: (ctx) => ({
        body: {
          "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
          "@odata.id": `${ROOT}/`,
          Id: "RootService",
          Name: "esxkit Redfish service",
          RedfishVersion: "1.14.0",
          UUID: ctx.env.serviceUuid,
          Vendor: "esxkit",
          Product: `esxkit ${ctx.env.version}`,
          ...Object.fromEntries(TOP.map((t) => [t, link(`${ROOT}/${t}`)])),
          Links: { Sessions: link(`${ROOT}/SessionService/Sessions`) },
          ProtocolFeaturesSupported: { ExcerptQuery: false, ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false }, FilterQuery: false, OnlyMemberQuery: false, SelectQuery: false },
        },
      }),
    },
  },
  {
    pattern: `${ROOT}/odata`,
    name: "OData",
    public: ["GET"],
    methods: {
      GET: () => ({
        body: {
          "@odata.context": `${ROOT}/$metadata`,
          value: [{ name: "Service", kind: "Singleton", url: `${ROOT}/` }, ...TOP.map((t) => ({ name: t, kind: "Singleton", url: `${ROOT}/${t}` }))],
        },
        etag: false,
      }),
    },
  },
  { pattern: `${ROOT}/$metadata`, name: "Metadata", public: ["GET"], methods: { GET: () => ({ text: metadata(), contentType: "application/xml" }) } },
];
