// `esxkit vm media insert|eject|status VM`: virtual media for field work without a Redfish
// client, through the same code the BMCs run (src/bmc/vsphere-media.ts).
import { defineCommand } from "citty";
import type { EndpointConfig, VmSelector } from "../config/types.ts";
import { resolveSecret } from "../config/secrets.ts";
import { openVmMedia, type VmMediaSession } from "../bmc/vm-media-session.ts";
import type { MediaState } from "../bmc/virtual-media.ts";
import { configArg, jsonArg, loadConfigFromArgs, printJson } from "./common.ts";
import { createLogger } from "../log/logger.ts";
import { withTlsHint } from "./vcenter.ts";
import { pickEndpoints, vcenterArg } from "./vm-endpoints.ts";

const vmArgs = {
  vm: { type: "positional" as const, description: "VM name (or uuid with --by)", required: true as const, valueHint: "VM" },
  by: { type: "enum" as const, options: ["name", "uuid", "instance_uuid"], description: "how VM is given (default name)", default: "name" },
  ...vcenterArg,
  ...configArg,
  ...jsonArg,
};

async function withMedia<T>(args: { vm: string; by: string; vcenter?: string; config?: string }, settings: { mediaDatastore?: string; verifyTls?: boolean }, fn: (s: VmMediaSession) => Promise<T>): Promise<T> {
  const config = loadConfigFromArgs(args);
  const [endpoint] = pickEndpoints(config, args.vcenter, false) as [EndpointConfig];
  // Errors reach the user once, as the command's error; warnings such as "will retry" do not apply here.
  const session = openVmMedia(endpoint, { by: args.by, value: args.vm } as VmSelector, settings, createLogger({ level: "error", format: "pretty", write: (line) => process.stderr.write(`${line}\n`) }));
  try {
    return await fn(session);
  } catch (err) {
    throw withTlsHint(err, endpoint);
  } finally {
    await session.close();
  }
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function describeState(s: MediaState): string {
  const t = s.transfer;
  const transfer = t ? `; transfer ${t.state}${t.reused ? " (already on the datastore)" : ""}: ${mb(t.bytes)}${t.total !== undefined ? ` of ${mb(t.total)}` : ""}${t.error ? ` (${t.error})` : ""}` : "";
  if (!s.inserted) return `no media${transfer}`;
  return `${s.image ?? "(unknown image)"}, ${s.connected ? "connected" : "not connected"}${transfer}`;
}

/** A progress line on stderr while a transfer runs (terminals only; logs stay clean). */
function showProgress(session: VmMediaSession): () => void {
  if (!process.stderr.isTTY) return () => undefined;
  const timer = setInterval(() => {
    const t = session.media.state("cd").transfer;
    if (!t || t.state !== "downloading") return;
    const pct = t.total ? ` (${Math.floor((t.bytes * 100) / t.total)} %)` : "";
    process.stderr.write(`\r  ${mb(t.bytes)}${t.total ? ` of ${mb(t.total)}` : ""}${pct}   `);
  }, 500);
  return () => {
    clearInterval(timer);
    process.stderr.write("\r\x1b[K");
  };
}

const insert = defineCommand({
  meta: { name: "insert", description: "fetch an image URL onto the VM's datastore and connect it to the VM's CD-ROM" },
  args: {
    ...vmArgs,
    url: { type: "positional", description: "http(s) URL of the ISO image", required: true, valueHint: "URL" },
    datastore: { type: "string", description: "datastore for the image (default: the datastore of the VM's vmx)", valueHint: "DS" },
    "image-user": { type: "string", description: "basic-auth user for the image URL", valueHint: "USER" },
    "image-password": { type: "string", description: "basic-auth password: env:NAME, file:PATH or credential:NAME", valueHint: "REF" },
    "verify-tls": { type: "boolean", description: "verify the image server's certificate (default: not verified, as BMCs do)" },
  },
  async run({ args }) {
    const password = args["image-password"] ? resolveSecret(args["image-password"]) : undefined;
    await withMedia(args, { mediaDatastore: args.datastore, verifyTls: args["verify-tls"] }, async (session) => {
      const abort = new AbortController();
      const onSignal = () => abort.abort(new Error("interrupted"));
      process.once("SIGINT", onSignal);
      const stop = showProgress(session);
      try {
        await session.media.insert("cd", args.url, { username: args["image-user"], password, signal: abort.signal });
      } finally {
        stop();
        process.off("SIGINT", onSignal);
      }
      const s = session.media.state("cd");
      if (args.json) return printJson({ vm: args.vm, ...s });
      process.stdout.write(`${args.vm}: ${describeState(s)}\n`);
    });
  },
});

const eject = defineCommand({
  meta: { name: "eject", description: "disconnect the image esxkit inserted; its file is deleted once no VM uses it" },
  args: vmArgs,
  async run({ args }) {
    await withMedia(args, {}, async (session) => {
      await session.media.eject("cd");
      const s = await session.media.refresh();
      if (args.json) return printJson({ vm: args.vm, ...s });
      process.stdout.write(`${args.vm}: ${describeState(s)}\n`);
    });
  },
});

const status = defineCommand({
  meta: { name: "status", description: "what esxkit has inserted into the VM's CD-ROM" },
  args: vmArgs,
  async run({ args }) {
    await withMedia(args, {}, async (session) => {
      const s = await session.media.refresh();
      if (args.json) return printJson({ vm: args.vm, ...s });
      process.stdout.write(`${args.vm}: ${describeState(s)}\n`);
    });
  },
});

export default defineCommand({
  meta: { name: "media", description: "virtual media (CD-ROM image from a URL): insert | eject | status" },
  subCommands: { insert, eject, status },
});
