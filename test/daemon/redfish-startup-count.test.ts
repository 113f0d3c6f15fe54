// The compiled daemon's "Redfish listening" line counts every system it serves: the Redfish
// listener starts after the BMC services, so machines whose IPMI port is still being bound
// are counted too (the line said "systems: 2" for 4 machines). No vCenter is needed: the
// machines register before their first vCenter sync, which here never succeeds (a closed
// loopback port).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, cli, freePort, startServe, until } from "../support/daemon/serve.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-rf-count-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  // [IPMI + Redfish machines, Redfish-only machines, machines with redfish = false]
  [2, 2, 1],
  [3, 0, 0],
  [0, 3, 1],
])("%i IPMI and %i Redfish-only machines (and %i not on Redfish): the startup line counts them all", async (ipmi, redfishOnly, hidden) => {
  buildBinary();
  const closed = await freePort("tcp");
  const rfPort = await freePort("tcp");
  const socket = join(dir, `c-${ipmi}-${redfishOnly}.sock`);
  let bmcs = "";
  for (let i = 0; i < ipmi; i++) bmcs += `\n[[bmc]]\nvm = "ipmi-${i}"\naddress = "127.0.0.1"\nport = ${await freePort()}\nusername = "admin"\npassword = "x"\n`;
  for (let i = 0; i < redfishOnly; i++) bmcs += `\n[[bmc]]\nvm = "rf-${i}"\nipmi = false\n`;
  for (let i = 0; i < hidden; i++) bmcs += `\n[[bmc]]\nvm = "hidden-${i}"\naddress = "127.0.0.1"\nport = ${await freePort()}\nusername = "admin"\npassword = "x"\nredfish = false\n`;
  const config = join(dir, `config-${ipmi}-${redfishOnly}.toml`);
  writeFileSync(
    config,
    `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\n\n[vcenter.none]\nurl = "https://127.0.0.1:${closed}/sdk"\nusername = "u"\npassword = "p"\ninsecure = true\ntimeout_ms = 500\n\n[redfish]\nlisten = "127.0.0.1:${rfPort}"\nusername = "admin"\npassword = "rf-pass"\n${bmcs}`,
    { mode: 0o600 },
  );
  const serve = await startServe({ config, cwd: dir, env: { PATH: process.env.PATH ?? "" } });
  try {
    const line = await until("Redfish listening", () => serve.lines("Redfish listening")[0], 20_000, serve.log);
    expect(line.systems).toBe(ipmi + redfishOnly);
    // The same number the running service reports.
    const s = JSON.parse(cli(["status", "--socket", socket, "--json"], { PATH: process.env.PATH ?? "" }, dir).out) as { services: Array<{ kind: string; systems?: number }> };
    expect(s.services.find((x) => x.kind === "redfish")?.systems).toBe(ipmi + redfishOnly);
  } finally {
    await serve.stop();
  }
}, 60_000);
