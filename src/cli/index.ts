// The top-level command. Sub-commands load lazily so `esxkit version` starts fast.
import { defineCommand } from "citty";
import { VERSION } from "../version.ts";

export const main = defineCommand({
  meta: { name: "esxkit", examples: ["esxkit config check -c config.toml", "esxkit serve -c config.toml", "esxkit help vm power"], version: VERSION, description: "virtual BMCs, SLP spoof entries and a watchdog for vSphere" },
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.default),
    config: () => import("./config.ts").then((m) => m.default),
    version: () => import("./version.ts").then((m) => m.default),
    vcenter: () => import("./vcenter.ts").then((m) => m.default),
    vm: () => import("./vm.ts").then((m) => m.default),
    doctor: () => import("./doctor.ts").then((m) => m.default),
    slp: () => import("./slp.ts").then((m) => m.default),
    ipmi: () => import("./ipmi.ts").then((m) => m.default),
    redfish: () => import("./redfish.ts").then((m) => m.default),
    status: () => import("./control.ts").then((m) => m.status),
    reload: () => import("./control.ts").then((m) => m.reload),
    bmc: () => import("./control.ts").then((m) => m.bmc),
    watchdog: () => import("./control.ts").then((m) => m.watchdog),
    console: () => import("./console.ts").then((m) => m.default),
    "install-service": () => import("./install-service.ts").then((m) => m.default),
  },
});
