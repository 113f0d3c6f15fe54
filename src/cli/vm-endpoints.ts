// Which endpoint a `vm` command talks to: --vcenter NAME, else the only [vcenter.*].
import type { Config, EndpointConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { endpointByName } from "./vcenter.ts";

export const vcenterArg = {
  vcenter: { type: "string", description: "endpoint name ([vcenter.NAME] or [esxi.NAME]); default: the only [vcenter.*]", valueHint: "NAME" },
} as const;

export function pickEndpoints(config: Config, name: string | undefined, all: boolean): EndpointConfig[] {
  if (name) return [endpointByName(config, name)];
  const vcs = Object.values(config.vcenter);
  if (vcs.length === 1 || (all && vcs.length > 0)) return all ? vcs : [vcs[0] as EndpointConfig];
  if (vcs.length === 0) throw new UsageError(`${config.file} has no [vcenter.*] section: pass --vcenter NAME`);
  throw new UsageError(`${config.file} has several vCenters (${vcs.map((v) => v.name).join(", ")}): pass --vcenter NAME`);
}
