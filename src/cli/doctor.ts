// `esxkit doctor`: check vCenter/ESXi for known field traps. Exit 0 ok, 1 warnings, 2 critical (and, as for
// every command, 2 on a usage error, 1 when it cannot run: src/cli/run.ts).
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { createLogger, isLevel } from "../log/logger.ts";
import {
  DEFAULT_BMC_TIMEOUT_MS,
  endpointFromFlags,
  endpointsFromConfig,
  renderJson,
  renderMarkdown,
  renderText,
  runDoctor,
  shouldColor,
} from "../doctor/index.ts";
import type { Config, EndpointConfig } from "../config/types.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { stdout, stderr } from "./output.ts";

export const doctorArgs = {
  ...configArg,
  url: { type: "string", description: "check this one vCenter/ESXi instead of the config: https://host/sdk", valueHint: "URL" },
  username: { type: "string", description: "user name for --url", valueHint: "USER" },
  password: { type: "string", description: "password for --url: env:NAME, file:PATH, credential:NAME (or the value)", valueHint: "SECRET" },
  thumbprint: { type: "string", description: "trust --url's certificate by its SHA-256/SHA-1 thumbprint", valueHint: "HEX" },
  ca: { type: "string", description: "trust --url's certificate through this CA file (PEM)", valueHint: "FILE" },
  insecure: { type: "boolean", description: "do not verify --url's certificate" },
  "timeout-ms": { type: "string", description: "deadline per SOAP call for --url (default 10000)", valueHint: "MS" },
  "bmc-timeout-ms": { type: "string", description: `how long to wait for each BMC (default ${DEFAULT_BMC_TIMEOUT_MS})`, valueHint: "MS" },
  json: { type: "boolean", description: "machine-readable JSON report" },
  markdown: { type: "boolean", description: "Markdown report to hand to a customer" },
  verbose: { type: "boolean", description: "also show the evidence of passed checks" },
  "log-level": { type: "string", description: "debug | info | warn | error, to stderr (default warn)", valueHint: "LEVEL" },
} as const;

function intFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}

export default defineCommand({
  meta: {
    name: "doctor", examples: ["esxkit doctor -c /etc/esxkit/config.toml", "esxkit doctor --url https://vcsa.lab/sdk --username administrator@vsphere.local --password env:VC_PW --markdown > report.md"],
    description:
      "check vCenter/ESXi for known traps (EVC/MDCLEAR, upgrade order, USB/SD boot, MSM discovery, watchdog readiness). " +
      "Exit 0 ok, 1 warnings, 2 critical; like every command it also exits 2 on a usage error and 1 when it cannot run " +
      "(message on stderr, stdout empty)",
  },
  args: doctorArgs,
  async run({ args }) {
    if (args.json && args.markdown) throw new UsageError("choose one of --json and --markdown");
    const endpointFlags = args.url ?? args.username ?? args.password ?? args.thumbprint ?? args.ca ?? (args.insecure || undefined) ?? args["timeout-ms"];
    if (endpointFlags !== undefined && args.config) throw new UsageError("use either -c/--config or --url (with --username/--password), not both");
    const level = args["log-level"] ?? "warn";
    if (!isLevel(level)) throw new UsageError(`--log-level: expected debug, info, warn or error, got ${JSON.stringify(level)}`);
    const logger = createLogger({ level, format: "pretty", write: (line) => stderr(`${line}\n`) });
    const bmcTimeoutMs = intFlag("bmc-timeout-ms", args["bmc-timeout-ms"], DEFAULT_BMC_TIMEOUT_MS, 100, 60_000);

    let endpoints: EndpointConfig[];
    let config: Config | undefined;
    if (endpointFlags !== undefined) {
      endpoints = [endpointFromFlags(args)];
    } else {
      config = loadConfigFromArgs(args);
      for (const w of config.warnings) logger.warn(w);
      endpoints = endpointsFromConfig(config);
      if (endpoints.length === 0) throw new UsageError(`${config.file} has no [vcenter.*] or [esxi.*] to check; or pass --url`);
    }

    const report = await runDoctor({ endpoints, config, logger, bmcTimeoutMs });
    let text: string;
    if (args.json) text = renderJson(report);
    else if (args.markdown) text = renderMarkdown(report);
    else text = renderText(report, { color: shouldColor(process.stdout), width: process.stdout.columns, verbose: args.verbose });
    stdout(text);
    process.exitCode = report.exitCode;
  },
});
