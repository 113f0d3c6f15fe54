// telnets:// through the compiled binary: with proxy_uri = "telnets://…" and no certificate
// configured, `esxkit serve` makes a self-signed pair once into state_dir (key 0600), logs its
// thumbprint with the proxy_uri that pins it, and a host connecting over TLS gets the console.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, binary, freePort, type ServeProcess, startServe, until } from "../support/daemon/serve.ts";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";
import { VmEndpoint } from "../support/vspc/vm-endpoint.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-console-tls-"));
const socket = join(dir, "control.sock");
let sim: Vcsim;
let serve: ServeProcess;
let vspcPort = 0;

beforeAll(async () => {
  buildBinary();
  sim = await startVcsim();
  vspcPort = await freePort("tcp");
  writeFileSync(
    join(dir, "config.toml"),
    `[daemon]
state_dir = "${join(dir, "state")}"
control_socket = "${socket}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:E2E_VC"
thumbprint = "${sim.thumbprintSha256}"

[console]
listen = "127.0.0.1:${vspcPort}"
proxy_uri = "telnets://127.0.0.1:${vspcPort}"

[[bmc]]
name = "tls01"
vm = "DC0_H0_VM0"
address = "127.0.0.1"
port = ${await freePort()}
username = "admin"
password = "env:E2E_VC"
serial = true
`,
  );
  serve = await startServe({ config: join(dir, "config.toml"), cwd: dir, env: { PATH: process.env.PATH ?? "", E2E_VC: sim.password } });
  await until("esxkit to serve", () => serve.lines("esxkit serving").length > 0, 30_000, () => serve.log());
});

afterAll(async () => {
  await serve?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the vSPC speaks TLS with a generated certificate and says how to pin it", async () => {
  const key = join(dir, "state/vspc.key");
  expect(existsSync(join(dir, "state/vspc.crt"))).toBe(true);
  expect(statSync(key).mode & 0o777).toBe(0o600);
  const warning = serve.lines("proxy_uri is telnets:// without #thumbprint=: ESXi must then trust the vSPC's certificate by its CA")[0];
  // SHA-1, the form ESXi's proxy URIs carry (20 bytes).
  expect(String(warning?.hint)).toMatch(new RegExp(`^proxy_uri = "telnets://127\\.0\\.0\\.1:${vspcPort}#thumbprint=([0-9A-F]{2}:){19}[0-9A-F]{2}" pins it$`));
  const host = await VmEndpoint.connect({ port: vspcPort, tls: true, identity: { serviceUri: "esxkit:tls01", direction: "server", name: "DC0_H0_VM0" } });
  host.write(new TextEncoder().encode("over tls\r\n"));
  await until("the log", async () => {
    const p = Bun.spawn([binary, "console", "tls01", "--log", "--socket", socket], { stdout: "pipe", stderr: "pipe" });
    return (await new Response(p.stdout).text()).includes("over tls");
  }, 10_000, () => serve.log());
  host.close();
});

test("a #thumbprint= that is not the vSPC's certificate is an error at start, with the right pin", async () => {
  const file = join(dir, "config.toml");
  const wrong = Array(20).fill("AB").join(":");
  writeFileSync(file, readFileSync(file, "utf8").replace(`proxy_uri = "telnets://127.0.0.1:${vspcPort}"`, `proxy_uri = "telnets://127.0.0.1:${vspcPort}#thumbprint=${wrong}"`));
  serve.proc.kill("SIGHUP");
  const msg = "proxy_uri's #thumbprint= is not the vSPC's certificate: the VMs' hosts will refuse the TLS connection";
  await until("the error", () => serve.lines(msg).length > 0, 15_000, () => serve.log());
  const line = serve.lines(msg)[0] as Record<string, unknown>;
  expect(String(line.hint)).toBe(`proxy_uri = "telnets://127.0.0.1:${vspcPort}#thumbprint=${line.certificate_sha1}" pins it`);
});
