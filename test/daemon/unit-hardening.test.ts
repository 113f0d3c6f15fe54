// The shipped unit: systemd-analyze verify and security (offline), and the compiled binary
// serving a BMC and an SLP entry inside an emulation of the unit's sandbox: SystemCallFilter=
// @system-service (libseccomp, killing on any other call), NoNewPrivileges, a non-root user
// with only CAP_NET_BIND_SERVICE, ProcSubset=pid + ProtectProc=invisible, PrivateTmp,
// ProtectHome and a read-only / (ProtectSystem=strict) with only its own directory writable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderUnit } from "../../src/cli/install-service.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { binary, buildBinary, collect, esxkit, freeUdpPort, root, until } from "../support/config/binary.ts";
import { freePort } from "../support/daemon/serve.ts";
import { onPty } from "../support/ipmi/pty.ts";
import { VmEndpoint } from "../support/vspc/vm-endpoint.ts";
import { esxkitServiceUri } from "../../src/vsphere/serial-port.ts";

const freeTcpPort = () => freePort("tcp");
import { type Vcsim, startVcsim } from "../support/vcsim.ts";

const work = mkdtempSync(join(tmpdir(), "esxkit-unit-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => buildBinary(), 120_000);

function unitFile(user?: string): string {
  const p = join(work, user ? "esxkit-user.service" : "esxkit.service");
  writeFileSync(p, renderUnit({ binary, config: "/etc/esxkit/config.toml", user }));
  return p;
}

describe("systemd-analyze on the rendered unit", () => {
  test.each([[undefined], ["esxkit"]])("verify passes (user %p)", (user) => {
    const r = Bun.spawnSync(["systemd-analyze", "verify", unitFile(user)], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("security --offline scores the unit's exposure well below the 3.4 it had", () => {
    const r = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", unitFile()], { stdout: "pipe", stderr: "pipe" });
    const out = r.stdout.toString() + r.stderr.toString();
    const m = /Overall exposure level for esxkit\.service: (\d+\.\d+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(2.0);
    for (const key of ["SystemCallFilter=~@mount", "ProtectProc=", "ProcSubset=", "PrivateMounts="]) {
      expect(out.split("\n").find((l) => l.includes(key))).toMatch(/^✓/);
    }
  });
});



/** The host pid of the process whose command line starts with `prefix` (it runs in its own pid namespace). */
function pidOf(prefix: string): number | undefined {
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").replaceAll("\0", " ").startsWith(prefix)) return Number(e);
    } catch {}
  }
  return undefined;
}

/** The sandbox as a shell script run by unshare(1) in new mount and pid namespaces. */
function sandboxScript(dir: string, filter: string, argv: string[]): string {
  // The seccomp launcher runs from dir too: a checkout under /tmp or /home is hidden in here.
  const caps = "-all,+net_bind_service";
  return [
    "set -e",
    "mount -t proc -o remount,subset=pid,hidepid=invisible proc /proc", // ProcSubset=pid, ProtectProc=invisible
    "mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp", // PrivateTmp=yes
    "mount -t tmpfs -o ro,mode=000 tmpfs /home && mount -t tmpfs -o ro,mode=000 tmpfs /root", // ProtectHome=yes
    `mount --bind ${dir} ${dir} && mount -o remount,bind,ro /`, // ProtectSystem=strict, StateDirectory= writable
    `exec setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps ${caps} --ambient-caps ${caps} --bounding-set ${caps} ` +
      `/usr/bin/python3 ${join(dir, "seccomp_exec.py")} ${filter} ${argv.join(" ")}`,
  ].join("\n");
}

const sandboxBinary = (dir: string) => join(dir, "esxkit");

function sandboxed(dir: string, filter: string, argv: string[]) {
  return Bun.spawn(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "sh", "-c", sandboxScript(dir, filter, argv)], {
    env: { PATH: process.env.PATH ?? "", E2E_BMC: "sandbox-pass-1", E2E_VC: process.env.E2E_VC ?? "" },
    stdout: "pipe",
    stderr: "pipe",
  });
}

describe("the compiled binary inside the unit's sandbox", () => {
  let sim: Vcsim;
  let dir: string;
  beforeAll(async () => {
    sim = await startVcsim({ mode: "vpx", args: ["-cluster", "0", "-host", "1", "-vm", "1"] });
    // Outside /tmp (PrivateTmp would hide it) and on the read-only root: bind-mounted writable.
    dir = mkdtempSync("/run/esxkit-sandbox-");
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "state"));
    chownSync(dir, 65534, 65534);
    chownSync(join(dir, "state"), 65534, 65534);
    // The sandbox hides /tmp and /home (PrivateTmp, ProtectHome), where a checkout may live
    // (CI clones anywhere): the binary and the launcher run from dir, as an installed unit's
    // binary runs from /usr/local/bin.
    copyFileSync(binary, sandboxBinary(dir));
    chmodSync(sandboxBinary(dir), 0o755);
    copyFileSync(join(root, "test/support/daemon/seccomp_exec.py"), join(dir, "seccomp_exec.py"));
  }, 120_000);
  afterAll(async () => {
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the filter emulation does kill a program that makes a call outside the allowed groups", () => {
    const p = Bun.spawnSync(["/usr/bin/python3", join(root, "test/support/daemon/seccomp_exec.py"), "@basic-io", binary, "version"]);
    expect(p.signalCode ?? p.exitCode).not.toBe(0);
  });

  test("serve, IPMI (power status, LAN parameters), SLP, the serial console (vSPC, log, SOL), status, SIGHUP and SIGTERM all work", async () => {
    const client = await VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 10_000 });
    const vm = (await listVms(client)).map((v) => v.name).sort()[0] as string;
    await client.close();
    const [bmcPort, slpPort, vspcPort] = [await freeUdpPort(), await freeUdpPort(), await freeTcpPort()];
    const socket = join(dir, "control.sock");
    const cfg = join(dir, "config.toml");
    writeFileSync(
      cfg,
      `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\n\n[vcenter.sim]\nurl = "${sim.url}"\nusername = "${sim.username}"\npassword = "env:E2E_VC"\nthumbprint = "${sim.thumbprintSha256}"\n\n` +
        `[console]\nlisten = "127.0.0.1:${vspcPort}"\nproxy_uri = "telnet://127.0.0.1:${vspcPort}"\n\n` +
        `[[bmc]]\nvm = "${vm}"\naddress = "127.0.0.1"\nport = ${bmcPort}\nusername = "admin"\npassword = "env:E2E_BMC"\nserial = true\n\n` +
        `[[slp]]\nhost = "esxi-sandbox.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${slpPort}\n`,
      { mode: 0o644 },
    );
    process.env.E2E_VC = sim.password;
    const proc = sandboxed(dir, "@system-service", [sandboxBinary(dir), "serve", "-c", cfg, "--log-format", "json"]);
    const out = collect(proc);
    try {
      await until("esxkit serving", () => out.text().includes('"esxkit serving"') || proc.exitCode !== null);
      expect(proc.exitCode).toBeNull();
      const ipmi = (...args: string[]) =>
        Bun.spawnSync(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", "sandbox-pass-1", ...args], { stdout: "pipe", stderr: "pipe" });
      await until("power status through the sandboxed BMC", () => /Chassis Power is (on|off)/.test(ipmi("chassis", "power", "status").stdout.toString()));
      const lan = ipmi("lan", "print", "1");
      expect(lan.exitCode).toBe(0);
      expect(lan.stdout.toString()).toContain("IP Address");
      const slp = esxkit(["slp", "find", "--unicast", "127.0.0.1", "--port", String(slpPort), "--timeout", "2000"]);
      expect(slp.stdout).toContain("service:wbem:https://esxi-sandbox.example.local:5989");
      const status = esxkit(["status", "--socket", socket, "--json"]);
      expect(status.code).toBe(0);
      // The serial console: a host dials the vSPC, its output lands in the log under
      // state_dir, and ipmitool SOL types into the VM.
      const host = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: esxkitServiceUri(vm), direction: "server", name: vm }, echo: true });
      host.write(new TextEncoder().encode("sandbox console ok\r\n"));
      await until("the console log", () => esxkit(["console", vm, "--log", "--socket", socket]).stdout.includes("sandbox console ok"));
      const sol = await onPty([{ expect: "SOL Session operational", timeout: 20 }, { send: "sandboxed\r" }, { expect: "sandboxed", timeout: 10 }, { send: "~." }, { exit_timeout: 10 }], ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmcPort), "-U", "admin", "-P", "sandbox-pass-1", "sol", "activate"], 40_000);
      expect(sol.ok).toBe(true);
      expect(Buffer.concat(host.input).toString()).toContain("sandboxed\r");
      host.close();
      const pid = pidOf(`${sandboxBinary(dir)} serve -c ${cfg}`);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid as number, "SIGHUP");
      await until("the reload", () => out.text().split("\n").filter((l) => l.includes('"configuration applied"')).length >= 2);
      process.kill(pid as number, "SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(out.text()).toContain('"stopped"');
      // Nothing failed for want of a system call, a /proc file or a writable path.
      expect(out.text()).not.toMatch(/EPERM|EACCES|EROFS|ENOENT|"level":"error"/);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 120_000);
});
