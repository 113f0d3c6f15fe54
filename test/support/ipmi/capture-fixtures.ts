// Regenerates test/ipmi/fixtures/captures.json: real IPMI traffic captured with tshark on
// loopback, between real clients (ipmitool, freeipmi, pyghmi, ours) and real BMCs
// (our engine, OpenIPMI ipmi_sim, pyghmi's Bmc). Run on demand:
//   node_modules/.bin/bun test/support/ipmi/capture-fixtures.ts
// The password in the fixtures is a test-only value.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { IpmiClient } from "../../../src/ipmi/client/client.ts";
import { ADMIN, PYTHON, run, startEngine, startIpmiSim, startPyghmiBmc } from "./peers.ts";
import { readCapture, startCapture } from "./tshark.ts";

export interface CaptureFixture {
  name: string;
  client: string;
  bmc: string;
  user: string;
  password: string;
  /** The RMCP+ cipher suite the session ran with (absent for IPMI 1.5 captures). */
  suite?: number;
  datagrams: { dir: "request" | "reply"; hex: string }[];
}

const engine = await startEngine({ cipherSuites: [17, 3], ipmi15: true });
const sim = await startIpmiSim();
const pyg = await startPyghmiBmc();
const fixtures: CaptureFixture[] = [];

async function capture(name: string, client: string, bmc: string, suite: number | undefined, port: number, act: () => Promise<unknown>): Promise<void> {
  const cap = await startCapture(port);
  try {
    await act();
  } finally {
    const file = await cap.stop();
    // startCapture's readiness pings repeat; keep one of each distinct ASF datagram.
    const seenAsf = new Set<string>();
    const datagrams = (await readCapture(file))
      .filter((d) => {
        // pyghmi's Bmc wakes its own loop with 1-byte datagrams to its port: not RMCP.
        if (!d.hex.startsWith("06")) return false;
        if (d.hex.slice(6, 8) !== "06") return true;
        if (seenAsf.has(d.hex)) return false;
        seenAsf.add(d.hex);
        return true;
      })
      .map((d) => ({ dir: d.dstPort === port ? ("request" as const) : ("reply" as const), hex: d.hex }));
    fixtures.push({ name, client, bmc, user: ADMIN.name, password: ADMIN.password, suite, datagrams });
    console.log(`${name}: ${datagrams.length} datagrams`);
  }
}

const ipmitool = (port: number, ...args: string[]) => {
  return async () => {
    const r = await run("ipmitool", ["-H", "127.0.0.1", "-p", String(port), "-U", ADMIN.name, "-P", ADMIN.password, ...args], 30_000);
    if (r.code !== 0) throw new Error(`ipmitool ${args.join(" ")}: ${r.stderr}`);
  };
};

try {
  await capture("ipmitool-lanplus-C3-engine", "ipmitool -I lanplus -C 3", "esxkit engine", 3, engine.port, ipmitool(engine.port, "-I", "lanplus", "-C", "3", "chassis", "power", "status"));
  await capture("ipmitool-lanplus-C17-engine", "ipmitool -I lanplus -C 17", "esxkit engine", 17, engine.port, ipmitool(engine.port, "-I", "lanplus", "-C", "17", "chassis", "power", "on"));
  await capture("ipmitool-lan-md5-engine", "ipmitool -I lan (MD5)", "esxkit engine", undefined, engine.port, ipmitool(engine.port, "-I", "lan", "chassis", "power", "status"));
  await capture("ipmipower-lan20-engine", "freeipmi ipmipower -D LAN_2_0", "esxkit engine", 3, engine.port, async () => {
    const r = await run("ipmipower", ["-D", "LAN_2_0", "-h", `127.0.0.1:${engine.port}`, "-u", ADMIN.name, "-p", ADMIN.password, "--stat"], 30_000);
    if (r.code !== 0) throw new Error(`ipmipower: ${r.stdout}${r.stderr}`);
  });
  await capture("pyghmi-client-engine", "pyghmi Command (proposes suite 17)", "esxkit engine", 17, engine.port, async () => {
    const code = `from pyghmi.ipmi import command\nc = command.Command(bmc="127.0.0.1", userid="${ADMIN.name}", password="${ADMIN.password}", port=${engine.port})\nprint(c.get_power())\nc.ipmi_session.logout()\n`;
    const r = await run(PYTHON, ["-c", code], 30_000);
    if (r.code !== 0) throw new Error(`pyghmi: ${r.stderr}`);
  });
  await capture("ipmitool-lanplus-C3-ipmisim", "ipmitool -I lanplus -C 3", "OpenIPMI ipmi_sim", 3, sim.port, ipmitool(sim.port, "-I", "lanplus", "-C", "3", "chassis", "power", "status"));
  await capture("ipmitool-lan-md5-ipmisim", "ipmitool -I lan (MD5)", "OpenIPMI ipmi_sim", undefined, sim.port, ipmitool(sim.port, "-I", "lan", "chassis", "power", "status"));
  await capture("esxkit-client-ipmisim", "esxkit IpmiClient [17, 3]", "OpenIPMI ipmi_sim", 3, sim.port, async () => {
    const c = await IpmiClient.connect({ host: "127.0.0.1", port: sim.port, username: ADMIN.name, password: ADMIN.password });
    await c.chassisStatus();
    await c.close();
  });
  await capture("ipmitool-lanplus-C3-pyghmi", "ipmitool -I lanplus -C 3", "pyghmi Bmc", 3, pyg.port, ipmitool(pyg.port, "-I", "lanplus", "-C", "3", "chassis", "power", "status"));
  writeFileSync(join(import.meta.dir, "../../ipmi/fixtures/captures.json"), `${JSON.stringify(fixtures, null, 1)}\n`);
} finally {
  await engine.close();
  await sim.close();
  await pyg.close();
}
