// Managers: one per system (its virtual BMC), linking the system and its VirtualMedia.
import type { Route } from "../context.ts";
import { collection, link, resource, ROOT } from "../json.ts";
import { findSystem, managerUri, systemUri } from "./systems.ts";

export const managerRoutes: Route[] = [
  { pattern: `${ROOT}/Managers`, name: "Managers", methods: { GET: (ctx) => ({ body: collection("#ManagerCollection.ManagerCollection", `${ROOT}/Managers`, "Managers", ctx.env.provider.systems().map(managerUri)) }) } },
  {
    pattern: `${ROOT}/Managers/:id`,
    name: "Manager",
    methods: {
      GET: (ctx) => {
        const s = findSystem(ctx);
        return {
          body: resource("#Manager.v1_13_0.Manager", managerUri(s), s.id(), `esxkit BMC for ${s.name}`, {
            ManagerType: "BMC",
            Manufacturer: "esxkit",
            Model: "esxkit virtual BMC",
            FirmwareVersion: ctx.env.version,
            PowerState: "On",
            Status: { State: "Enabled", Health: "OK" },
            VirtualMedia: link(`${managerUri(s)}/VirtualMedia`),
            Links: { ManagerForServers: [link(systemUri(s))] },
          }),
        };
      },
    },
  },
];
