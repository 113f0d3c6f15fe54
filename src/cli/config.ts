import { defineCommand } from "citty";
import type { Config } from "../config/types.ts";
import { ConfigError } from "../errors.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { jsonArg, printJson, stdout } from "./output.ts";

function describeVm(b: Config["bmc"][number]): string {
  return b.vm.by === "name" ? b.vm.value : `${b.vm.by}=${b.vm.value}`;
}

/** What `serve` would run, without secrets. */
export function summarize(c: Config) {
  return {
    file: c.file,
    vcenter: Object.values(c.vcenter).map((e) => ({ name: e.name, url: e.url, tls: e.tls.mode })),
    esxi: Object.values(c.esxi).map((e) => ({ name: e.name, url: e.url, tls: e.tls.mode, bmc: e.bmc ? `${e.bmc.address}:${e.bmc.port}` : null })),
    bmc: c.bmc.map((b) => ({ name: b.name, vm: describeVm(b), vcenter: b.vcenter, listen: b.ipmi ? `${b.address.includes(":") ? `[${b.address}]` : b.address}:${b.port}` : null, cipher_suites: b.cipher_suites, ipmi15: b.ipmi15, redfish: b.redfish && c.redfish !== undefined, serial: b.serial })),
    redfish: c.redfish ? { listen: c.redfish.listen, tls: c.redfish.tls_cert ? "configured" : "self-signed in state_dir", media_datastore: c.redfish.media_datastore ?? null } : null,
    console: c.console ? { listen: c.console.listen, proxy_uri: c.console.proxy_uri ?? null, tls: c.console.tls_cert ? "configured" : "none" } : null,
    slp: c.slp.map((s) => ({ name: s.name, urls: s.urls, source: s.profile ? `profile ${s.profile}` : `file ${s.attributes_file}`, interfaces: s.interfaces })),
    watchdog: c.watchdog.map((w) => ({ name: w.name, vm: w.vm, hosts: w.hosts, dry_run: w.dry_run })),
    warnings: c.warnings,
  };
}

const check = defineCommand({
  meta: { name: "check", examples: ["esxkit config check -c /etc/esxkit/config.toml", "esxkit config check -c config.toml --json", "esxkit config check --no-secrets -c config.toml"], description: "parse and validate a config file; print what would run (exit 0 valid, 1 invalid)" },
  args: {
    ...configArg,
    ...jsonArg,
    secrets: {
      type: "boolean",
      default: true,
      negativeDescription: "check everything but do not resolve env:/file:/credential: secrets (CI, a laptop without them)",
      description: "resolve env:/file:/credential: secrets (the default)",
    },
  },
  run({ args }) {
    let config: Config;
    try {
      config = loadConfigFromArgs(args, { checkStateDir: true, skipSecrets: args.secrets === false });
    } catch (err) {
      // Automation reading --json gets the verdict on stdout too (every problem, not capped);
      // people get stderr as usual.
      if (!(args.json && err instanceof ConfigError)) throw err;
      printJson({
        valid: false,
        problem_count: err.all.length,
        problems: err.all.map((e) => ({ file: e.file, line: e.line ?? null, key: e.keyPath ?? null, message: e.detail })),
      });
      throw err;
    }
    const s = summarize(config);
    if (args.json) return printJson({ valid: true, secrets_checked: args.secrets !== false, ...s });
    const out: string[] = [`${s.file}: valid${args.secrets === false ? " (secrets not resolved: --no-secrets)" : ""}`];
    for (const v of s.vcenter) out.push(`  vcenter ${v.name}: ${v.url} (tls ${v.tls})`);
    for (const e of s.esxi) out.push(`  esxi ${e.name}: ${e.url} (tls ${e.tls})${e.bmc ? `, physical BMC ${e.bmc}` : ""}`);
    for (const b of s.bmc) {
      const ipmi = b.listen ? `IPMI on ${b.listen} (suites ${b.cipher_suites.join(",")}${b.ipmi15 ? ", IPMI 1.5" : ""})` : "no IPMI";
      out.push(`  bmc ${b.name}: VM ${b.vm} on vcenter ${b.vcenter}, ${ipmi}${b.redfish ? ", Redfish" : ""}${b.serial ? ", serial console" : ""}`);
    }
    if (s.redfish) out.push(`  redfish: https://${s.redfish.listen} (certificate ${s.redfish.tls}${s.redfish.media_datastore ? `, media on ${s.redfish.media_datastore}` : ""})`);
    if (s.console) out.push(`  console (vSPC): listens on ${s.console.listen}${s.console.tls === "configured" ? " with TLS" : ""}; hosts dial ${s.console.proxy_uri ?? "(no proxy_uri)"}`);
    for (const e of s.slp) out.push(`  slp ${e.name}: ${e.urls.join(", ")} from ${e.source}${e.interfaces.length ? ` on ${e.interfaces.join(", ")}` : ""}`);
    for (const w of s.watchdog) out.push(`  watchdog ${w.name}: VM ${w.vm} on ${w.hosts.join(", ")}${w.dry_run ? " (dry run)" : ""}`);
    out.push(`  ${s.bmc.length} BMC(s), ${s.slp.length} SLP entr${s.slp.length === 1 ? "y" : "ies"}, ${s.watchdog.length} watchdog(s)`);
    for (const w of s.warnings) out.push(`warning: ${w}`);
    stdout(`${out.join("\n")}\n`);
  },
});

export default defineCommand({
  meta: { name: "config", examples: ["esxkit config check -c config.toml"], description: "work with config files" },
  subCommands: { check },
});
