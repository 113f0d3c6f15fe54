// `esxkit slp find` and `esxkit slp attrs`: an SLP user agent on the command line, to see
// what MegaRAID Storage Manager would see, and to capture a healthy host's attributes.
import { writeFileSync } from "node:fs";
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { serializeAttribute } from "../slp/attributes.ts";
import { errorCodeName } from "../slp/wire/index.ts";
import { findAttributes, findServices, formatSavedAttributes, type UaOptions } from "../slp/ua.ts";
import { jsonArg, printJson, printTable, stderr, stdout } from "./output.ts";

const uaArgs = {
  unicast: { type: "string", description: "ask this address only (default: multicast to 239.255.255.253)", valueHint: "ADDR" },
  interface: { type: "string", description: "local address to multicast from", valueHint: "ADDR" },
  port: { type: "string", description: "SLP port (default 427)", valueHint: "PORT" },
  scope: { type: "string", description: "comma-separated scope list (default DEFAULT)", valueHint: "SCOPES" },
  timeout: { type: "string", description: "how long to wait for replies, in ms (default 3000)", valueHint: "MS" },
  ttl: { type: "string", description: "multicast TTL (default 255)", valueHint: "N" },
  ...jsonArg,
} as const;

function intArg(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

function uaOptions(args: { unicast?: string; interface?: string; port?: string; scope?: string; timeout?: string; ttl?: string }): UaOptions {
  return {
    unicast: args.unicast,
    interfaceAddress: args.interface,
    port: intArg("port", args.port, 1, 65535),
    scopes: args.scope ? args.scope.split(",").map((s) => s.trim()) : undefined,
    timeoutMs: intArg("timeout", args.timeout, 100, 600_000),
    ttl: intArg("ttl", args.ttl, 1, 255),
  };
}

const find = defineCommand({
  meta: { name: "find", examples: ["esxkit slp find", "esxkit slp find --unicast 10.0.0.11 service:wbem", "esxkit slp find --predicate '(Namespace=lsi/lsimr13)'"], description: "find services (SrvRqst), by multicast or from one address" },
  args: {
    type: { type: "positional", description: "service type (default service:wbem)", required: false, valueHint: "TYPE" },
    predicate: { type: "string", description: "LDAPv3 filter, e.g. (Namespace=lsi/lsimr13)", valueHint: "FILTER" },
    ...uaArgs,
  },
  async run({ args }) {
    const type = (args.type as string | undefined) ?? "service:wbem";
    const { services, errors } = await findServices(type, uaOptions(args), args.predicate ?? "");
    if (args.json) return printJson({ services, errors: errors.map((e) => ({ ...e, error: errorCodeName(e.errorCode) })) });
    const sa = services.some((s) => s.scopes !== undefined);
    if (services.length > 0 && sa) printTable(["URL", "SCOPES", "ATTRIBUTES", "FROM"], services.map((s) => [s.url, s.scopes ?? "-", s.attrList || "-", s.responder]));
    else if (services.length > 0) printTable(["URL", "LIFETIME", "FROM"], services.map((s) => [s.url, String(s.lifetime), s.responder]));
    for (const e of errors) stderr(`${e.responder}: ${errorCodeName(e.errorCode)}\n`);
    if (services.length === 0) {
      stderr(`no ${type} services found\n`);
      process.exitCode = 1;
    }
  },
});

const attrs = defineCommand({
  meta: { name: "attrs", examples: ["esxkit slp attrs service:wbem:https://esx01.lab:5989 --unicast 10.0.0.11", "esxkit slp attrs service:wbem --unicast 10.0.0.11 --save esx01.attrs"], description: "read a service's attributes (AttrRqst) by URL or service type" },
  args: {
    target: { type: "positional", description: "service URL (service:wbem:https://host:5989) or type (service:wbem)", required: true, valueHint: "URL|TYPE" },
    tags: { type: "string", description: "comma-separated tags to ask for (wildcards allowed)", valueHint: "TAGS" },
    save: { type: "string", description: "write the attribute list(s) to FILE, usable as attributes_file", valueHint: "FILE" },
    ...uaArgs,
  },
  async run({ args }) {
    const target = args.target as string;
    const { results, errors } = await findAttributes(target, uaOptions(args), args.tags ?? "");
    if (args.save && results.length > 0) writeFileSync(args.save, formatSavedAttributes(target, results), { mode: 0o644 });
    if (args.json) {
      printJson({
        results: results.map((r) => ({ responder: r.responder, truncated: r.truncated, attrList: r.attrList })),
        errors: errors.map((e) => ({ ...e, error: errorCodeName(e.errorCode) })),
        saved: args.save && results.length > 0 ? args.save : undefined,
      });
    } else {
      for (const r of results) {
        stdout(`# from ${r.responder}${r.truncated ? " (truncated)" : ""}\n`);
        for (const a of r.attributes) stdout(`${serializeAttribute(a)}\n`);
      }
      for (const e of errors) stderr(`${e.responder}: ${errorCodeName(e.errorCode)}\n`);
      if (args.save && results.length > 0) stderr(`saved to ${args.save}\n`);
    }
    if (results.length === 0) {
      if (!args.json) stderr(`no attributes for ${target}\n`);
      process.exitCode = 1;
    }
  },
});

export default defineCommand({
  meta: { name: "slp", examples: ["esxkit slp find --unicast 10.0.0.11"], description: "SLP user agent: find services and read attributes as MSM would" },
  subCommands: { find, attrs },
});
