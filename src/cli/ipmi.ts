// `esxkit ipmi HOST[:PORT] -U USER -P SECRET [-C 17|3] power status|on|off|cycle|reset|soft|diag`
// (also `mc info`, `mc guid` and `raw NETFN CMD [BYTE…]`): the IPMI client the watchdog fences with,
// for field checks of a physical BMC or of esxkit's own virtual BMCs.
import { defineCommand } from "citty";
import { resolveSecret } from "../config/secrets.ts";
import { UsageError } from "../errors.ts";
import { IpmiClient, type ChassisAction } from "../ipmi/client/client.ts";
import { GUID_ORDERS, guidString } from "../ipmi/guid.ts";
import { createLogger } from "../log/logger.ts";
import { jsonArg, printJson, stderr, stdout } from "./output.ts";

const ACTIONS: Record<string, ChassisAction> = { on: "on", off: "off", cycle: "cycle", reset: "reset", soft: "soft", diag: "diag" };
const CONTROL_TEXT: Record<ChassisAction, string> = {
  on: "Up/On",
  off: "Down/Off",
  cycle: "Cycle",
  reset: "Reset",
  soft: "Soft",
  diag: "Diag",
};
const PRIVILEGES: Record<string, 2 | 3 | 4> = { user: 2, operator: 3, administrator: 4, admin: 4 };

/** "host", "host:623", "[::1]:623", "::1" → host and port. */
export function parseTarget(target: string): { host: string; port: number } {
  let host = target;
  let port = 623;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracket) {
    host = bracket[1] as string;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (target.startsWith("[")) {
    host = "";
  } else if ((target.match(/:/g) ?? []).length === 1) {
    const [h, p] = target.split(":") as [string, string];
    host = h;
    port = Number(p);
  }
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`"${target}" is not HOST[:PORT] (use [v6addr]:PORT for IPv6)`);
  return { host, port };
}

function byteArg(s: string, what: string): number {
  const n = s.startsWith("0x") || s.startsWith("0X") ? Number.parseInt(s.slice(2), 16) : Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 255 || s.trim() === "") throw new UsageError(`${what}: "${s}" is not a byte (0..255 or 0x00..0xff)`);
  return n;
}

function hex(d: Uint8Array): string {
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

export default defineCommand({
  meta: { name: "ipmi", examples: ["esxkit ipmi 10.0.0.21 -U admin -P env:BMC_PASSWORD power status", "esxkit ipmi 127.0.0.1:6230 -U admin -P file:/etc/esxkit/bmc.pw -C 3 power cycle", "esxkit ipmi esx01-ilo -U admin -P env:BMC_PASSWORD mc info", "esxkit ipmi esx01-ilo -U admin -P env:BMC_PASSWORD mc guid"], description: "talk to a BMC over IPMI v2.0/RMCP+: power status|on|off|cycle|reset|soft|diag, mc info|guid, raw" },
  args: {
    target: { type: "positional", description: "BMC address, HOST[:PORT] (default port 623)", required: true, valueHint: "HOST[:PORT]" },
    command: { type: "positional", description: "power | mc | raw", required: true, valueHint: "COMMAND" },
    user: { type: "string", alias: "U", description: "IPMI user name", valueHint: "USER" },
    password: {
      type: "string",
      alias: "P",
      description: "password as a secret reference: env:NAME, file:PATH, credential:NAME (a plain value works but shows in ps)",
      valueHint: "SECRET",
    },
    "cipher-suite": { type: "string", alias: "C", description: "17 or 3 (default: 17, falling back to 3)", valueHint: "ID" },
    privilege: { type: "string", alias: "L", description: "user | operator | administrator (default administrator)", valueHint: "LEVEL" },
    timeout: { type: "string", description: "bound on the session setup and on each command, in ms (default 10000)", valueHint: "MS" },
    verbose: { type: "boolean", alias: "v", description: "log the session setup to stderr" },
    ...jsonArg,
  },
  async run({ args }) {
    const { host, port } = parseTarget(args.target as string);
    const rest = (args._ as string[]).slice(2);
    const command = args.command as string;
    if (!args.user) throw new UsageError("-U USER is required");
    if (!args.password) throw new UsageError("-P SECRET is required (env:NAME, file:PATH or credential:NAME)");
    let suites: number[] | undefined;
    if (args["cipher-suite"] !== undefined) {
      const c = Number(args["cipher-suite"]);
      if (c !== 17 && c !== 3) throw new UsageError(`-C: expected 17 or 3, got ${JSON.stringify(args["cipher-suite"])}`);
      suites = [c];
    }
    const privilege = PRIVILEGES[(args.privilege ?? "administrator").toLowerCase()];
    if (!privilege) throw new UsageError(`-L: expected user, operator or administrator, got ${JSON.stringify(args.privilege)}`);
    const timeoutMs = args.timeout === undefined ? 10_000 : Number(args.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new UsageError(`--timeout: expected milliseconds >= 100, got ${JSON.stringify(args.timeout)}`);

    // Validate the command before touching the network.
    let run: (c: IpmiClient) => Promise<void>;
    if (command === "power") {
      const action = rest[0] ?? "status";
      if (rest.length > 1) throw new UsageError(`power: unexpected "${rest[1]}"`);
      if (action === "status") {
        run = async (c) => {
          const s = await c.chassisStatus();
          if (args.json) printJson({ power: s.powerOn ? "on" : "off", ...s });
          else stdout(`Chassis Power is ${s.powerOn ? "on" : "off"}\n`);
        };
      } else {
        const a = ACTIONS[action];
        if (!a) throw new UsageError(`power: expected status, on, off, cycle, reset, soft or diag, got "${action}"`);
        run = async (c) => {
          await c.chassisControl(a);
          if (args.json) printJson({ control: a, ok: true });
          else stdout(`Chassis Power Control: ${CONTROL_TEXT[a]}\n`);
        };
      }
    } else if (command === "mc") {
      if ((rest[0] !== "info" && rest[0] !== "guid") || rest.length > 1) throw new UsageError('mc: expected "mc info" or "mc guid"');
      if (rest[0] === "guid") {
        // The System GUID in each byte order vendors use: compare with the host's hardware uuid.
        run = async (c) => {
          const bytes = await c.getSystemGuid();
          const orders = Object.fromEntries(GUID_ORDERS.map((o) => [o, guidString(bytes, o)]));
          if (args.json) printJson({ bytes: hex(bytes), ...orders });
          else stdout(GUID_ORDERS.map((o) => `System GUID (${o}): ${orders[o]}\n`).join(""));
        };
      } else run = async (c) => {
        const d = await c.getDeviceId();
        if (args.json) printJson({ ...d, auxFirmware: d.auxFirmware ? hex(d.auxFirmware) : undefined });
        else {
          stdout(
            `Device ID: ${d.deviceId}\nDevice Revision: ${d.deviceRevision}\nFirmware Revision: ${d.firmwareMajor}.${String(d.firmwareMinor).padStart(2, "0")}\n` +
              `IPMI Version: ${d.ipmiVersion}\nManufacturer ID: ${d.manufacturerId}\nProduct ID: ${d.productId}\n`,
          );
        }
      };
    } else if (command === "raw") {
      if (rest.length < 2) throw new UsageError("raw: expected NETFN CMD [DATA…]");
      const [netFn, cmd, ...data] = rest.map((s, i) => byteArg(s, i === 0 ? "raw NETFN" : i === 1 ? "raw CMD" : "raw DATA")) as [number, number, ...number[]];
      if (netFn > 0x3f) throw new UsageError(`raw NETFN: 0x${netFn.toString(16)} is above 0x3f`);
      run = async (c) => {
        const r = await c.rawCommand(netFn, cmd, new Uint8Array(data));
        if (args.json) printJson({ cc: r.cc, data: hex(r.data) });
        else if (r.cc !== 0) {
          stderr(`completion code 0x${r.cc.toString(16).padStart(2, "0")}\n`);
          process.exitCode = 1;
        } else stdout(`${hex(r.data)}\n`);
      };
    } else {
      throw new UsageError(`unknown IPMI command "${command}" (expected power, mc or raw)`);
    }

    const password = resolveSecret(args.password);
    const logger = createLogger({ level: args.verbose ? "debug" : "warn", format: "pretty", write: (line) => stderr(`${line}\n`) });
    const client = await IpmiClient.connect({
      host,
      port,
      username: args.user,
      password,
      cipherSuites: suites,
      privilege,
      connectTimeoutMs: timeoutMs,
      commandTimeoutMs: timeoutMs,
      logger,
    });
    try {
      if (args.verbose) logger.info("IPMI session open", { host, port, suite: client.cipherSuite.id });
      await run(client);
    } finally {
      await client.close();
    }
  },
});
