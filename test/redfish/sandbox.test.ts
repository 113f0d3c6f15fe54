// The compiled binary as the systemd unit runs it: a non-root user without capabilities and
// no_new_privs (setpriv). The Redfish listener (an unprivileged port) starts, generates its
// certificate into the state directory it owns, and answers while vCenter is unreachable:
// the system is listed by its name with an unknown power state, never a guessed one.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const binary = join(import.meta.dir, "../../dist/esxkit");
const dir = mkdtempSync(join(tmpdir(), "esxkit-rf-sandbox-"));
const NOBODY = 65534;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freeTcpPort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

test("serve under setpriv (uid 65534, no capabilities, no_new_privs): Redfish answers, key 0600 owned by the service user", async () => {
  const port = freeTcpPort();
  const dead = freeTcpPort(); // nothing listens: vCenter unreachable
  const state = join(dir, "state");
  mkdirSync(state, { mode: 0o700 });
  chownSync(state, NOBODY, NOBODY);
  chmodSync(dir, 0o755);
  writeFileSync(
    join(dir, "config.toml"),
    `[daemon]\nstate_dir = "${state}"\ncontrol_socket = "${join(state, "control.sock")}"\n\n[vcenter.vc]\nurl = "https://127.0.0.1:${dead}/sdk"\nusername = "u"\npassword = "env:VC"\ninsecure = true\ntimeout_ms = 500\n\n[redfish]\nlisten = "127.0.0.1:${port}"\nusername = "admin"\npassword = "env:RF"\n\n[[bmc]]\nname = "lonely"\nvm = "lonely-vm"\nipmi = false\n`,
    { mode: 0o644 },
  );
  const p = Bun.spawn(["setpriv", "--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", binary, "serve", "-c", join(dir, "config.toml")], {
    env: { PATH: process.env.PATH ?? "", VC: "x", RF: "sandbox-pw" },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const auth = { authorization: `Basic ${Buffer.from("admin:sandbox-pw").toString("base64")}` };
    let members: string[] = [];
    for (let i = 0; i < 100 && members.length === 0; i++) {
      await Bun.sleep(100);
      try {
        const r = await fetch(`https://127.0.0.1:${port}/redfish/v1/Systems`, { headers: auth, tls: { rejectUnauthorized: false } } as RequestInit);
        members = ((await r.json()) as { Members: Array<{ "@odata.id": string }> }).Members.map((m) => m["@odata.id"]);
      } catch {}
    }
    expect(members).toEqual(["/redfish/v1/Systems/lonely"]);
    const sys = (await (await fetch(`https://127.0.0.1:${port}/redfish/v1/Systems/lonely`, { headers: auth, tls: { rejectUnauthorized: false } } as RequestInit)).json()) as { PowerState: unknown; Status: { State: string } };
    expect(sys.PowerState).toBeNull();
    expect(sys.Status.State).toBe("UnavailableOffline");
    // Answered at once, not after the VM lookup deadline.
    const t0 = performance.now();
    await fetch(`https://127.0.0.1:${port}/redfish/v1/Systems/lonely`, { headers: auth, tls: { rejectUnauthorized: false } } as RequestInit);
    expect(performance.now() - t0).toBeLessThan(1000);
    const key = statSync(join(state, "redfish.key"));
    expect(key.mode & 0o777).toBe(0o600);
    expect(key.uid).toBe(NOBODY);
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
}, 60_000);
