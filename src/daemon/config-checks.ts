// The config rules that need a subsystem's knowledge, for every load of a config that will
// run (serve, reload) or is checked (`config check`): the two must agree on what is valid.
import { type ConfigCheck, type LoadOptions, loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { checkSlpDatagrams } from "../slp/datagram-fit.ts";

export const SERVICE_CHECKS: readonly ConfigCheck[] = [checkSlpDatagrams];

/** loadConfig with SERVICE_CHECKS. Throws ConfigError. */
export function loadServiceConfig(path: string, opts: LoadOptions = {}): Config {
  return loadConfig(path, { ...opts, checks: SERVICE_CHECKS });
}
