// `esxkit vm media insert|eject|status VM`: virtual media for field work without a Redfish
// client, through the same code the BMCs run (src/bmc/vsphere-media.ts).
import { defineCommand } from "citty";
import type { EndpointConfig, VmSelector } from "../config/types.ts";
import { resolveSecret } from "../config/secrets.ts";
import { openVmMedia, type VmMediaSession } from "../bmc/vm-media-session.ts";
import type { MediaState } from "../bmc/virtual-media.ts";
import { configArg, loadConfigFromArgs } from "./common.ts";
import { createLogger } from "../log/logger.ts";
import { withTlsHint } from "./vcenter.ts";
import { byArg, pickEndpoints, vcenterArg } from "./vm-endpoints.ts";
import { jsonArg, printJson, stderr, stdout } from "./output.ts";

const vmArgs = {
  vm: { type: "positional" as const, description: "VM name (or uuid with --by)", required: true as const, valueHint: "VM" },
  ...byArg,
  ...vcenterArg,
  ...configArg,
  ...jsonArg,
};

async function withMedia<T>(args: { vm: string; by: string; vcenter?: string; config?: string }, settings: { mediaDatastore?: string; verifyTls?: boolean }, fn: (s: VmMediaSession) => Promise<T>): Promise<T> {
  const config = loadConfigFromArgs(args);
  const [endpoint] = pickEndpoints(config, args.vcenter, false) as [EndpointConfig];
  // Errors reach the user once, as the command's error; warnings such as "will retry" do not apply here.
  const session = openVmMedia(endpoint, { by: args.by, value: args.vm } as VmSelector, settings, createLogger({ level: "error", format: "pretty", write: (line) => stderr(`${line}\n`) }));
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

function report(args: { vm: string; json?: boolean }, s: MediaState): void {
  if (args.json) return printJson({ vm: args.vm, ...s });
  stdout(`${args.vm}: ${describeState(s)}\n`);
}

/** A progress line on stderr while a transfer runs (terminals only; logs stay clean). */
function showProgress(session: VmMediaSession): () => void {
  if (!process.stderr.isTTY) return () => undefined;
  const timer = setInterval(() => {
    const t = session.media.state("cd").transfer;
    if (!t || t.state !== "downloading") return;
    const pct = t.total ? ` (${Math.floor((t.bytes * 100) / t.total)} %)` : "";
    stderr(`\r  ${mb(t.bytes)}${t.total ? ` of ${mb(t.total)}` : ""}${pct}   `);
  }, 500);
  return () => {
    clearInterval(timer);
    stderr("\r\x1b[K");
  };
}

const insert = defineCommand({
  meta: {
    name: "insert",
    examples: [
      "esxkit vm media insert web01 http://10.0.0.5/images/rhcos-live.iso",
      "esxkit vm media insert web01 https://repo.lab/esxi.iso --image-user ro --image-password env:REPO_PW --datastore iso-ds",
    ],
    description: "fetch an image URL onto the VM's datastore and connect it to the VM's CD-ROM" },
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
      report(args, session.media.state("cd"));
    });
  },
});

/** A command that (optionally acts, then) reads the drive back from vSphere and reports it. */
function readBack(name: string, description: string, act: (s: VmMediaSession) => Promise<void>) {
  return defineCommand({
    meta: { name, description, examples: [`esxkit vm media ${name} web01`, `esxkit vm media ${name} --by uuid 4213a2b1-8c1e-4f0a-9d5e-2b7c9e0f1a22 --json`] },
    args: vmArgs,
    async run({ args }) {
      await withMedia(args, {}, async (session) => {
        await act(session);
        report(args, await session.media.refresh());
      });
    },
  });
}

const eject = readBack("eject", "disconnect the image esxkit inserted; its file is deleted once no VM uses it", (s) => s.media.eject("cd"));
const status = readBack("status", "what esxkit has inserted into the VM's CD-ROM", async () => undefined);

export default defineCommand({
  meta: { name: "media", examples: ["esxkit vm media insert web01 http://10.0.0.5/rhcos-live.iso", "esxkit vm media eject web01"], description: "virtual media (CD-ROM image from a URL): insert | eject | status" },
  subCommands: { insert, eject, status },
});
