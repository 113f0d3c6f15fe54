// Which endpoint a `vm` command talks to (--vcenter NAME, else the only [vcenter.*]), and how its VM is named (--by).
import type { Config, EndpointConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { endpointByName } from "./vcenter.ts";

export const vcenterArg = {
  vcenter: { type: "string", description: "endpoint name ([vcenter.NAME] or [esxi.NAME]); default: the only [vcenter.*]", valueHint: "NAME" },
} as const;

/** How a `vm` command's VM argument is meant. */
export const byArg = {
  by: { type: "enum" as const, options: ["name", "uuid", "instance_uuid"], description: "how VM is given (default name)", default: "name" },
};

export function pickEndpoints(config: Config, name: string | undefined, all: boolean): EndpointConfig[] {
  if (name) return [endpointByName(config, name)];
  const vcs = Object.values(config.vcenter);
  if (vcs.length === 1 || (all && vcs.length > 0)) return all ? vcs : [vcs[0] as EndpointConfig];
  if (vcs.length === 0) throw new UsageError(`${config.file} has no [vcenter.*] section: pass --vcenter NAME`);
  throw new UsageError(`${config.file} has several vCenters (${vcs.map((v) => v.name).join(", ")}): pass --vcenter NAME`);
}
