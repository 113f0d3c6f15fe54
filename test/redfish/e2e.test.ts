// The compiled binary's Redfish service in front of the simulator, through the real clients:
// Debian's python3-sushy (Ironic's library; systems, boot, reset, firmware, virtual media via
// the Manager), redfishtool, and hostile raw requests (errors must be Redfish error bodies).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Vcsim, startVcsim } from "../support/vcsim.ts";

const root = join(import.meta.dir, "../..");
const binary = join(root, "dist/esxkit");
const support = join(root, "test/support/redfish");
const dir = mkdtempSync(join(tmpdir(), "esxkit-redfish-"));
const PASSWORD = "rf-e2e-Secret-9";
const VM0 = "DC0_H0_VM0";
const VM1 = "DC0_H0_VM1";

let sim: Vcsim;
let esxkit: Subprocess<"ignore", "pipe", "pipe">;
let image: ReturnType<typeof Bun.serve>;
let port = 0;
let base = "";
let log = "";
let uuid0 = "";

function freeTcpPort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

const tls = { rejectUnauthorized: false };
const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;

function rf(path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.auth !== false && !headers.has("authorization")) headers.set("authorization", basic);
  return fetch(`${base}${path}`, { ...init, headers, tls } as RequestInit);
}

async function python(script: string, ...args: string[]): Promise<Record<string, unknown>> {
  // requests lets REQUESTS_CA_BUNDLE override an explicit verify=; give it esxkit's certificate.
  const env = { ...process.env };
  delete env.REQUESTS_CA_BUNDLE;
  delete env.CURL_CA_BUNDLE;
  const p = Bun.spawn(["/usr/bin/python3", join(support, script), ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${script} exited ${code}: ${err.slice(-2000)}`);
  return JSON.parse(out.trim().split("\n").pop() as string);
}

/** A daemon's config under `root`: the simulator, the Redfish listener on `port`, then `bmcs`. */
function daemonConfig(root: string, bmcs: string): string {
  return `[daemon]
state_dir = "${join(root, "state")}"
control_socket = "${join(root, "control.sock")}"

[vcenter.sim]
url = "${sim.url}"
username = "${sim.username}"
password = "env:E2E_VC"
thumbprint = "${sim.thumbprintSha256}"

[redfish]
listen = "127.0.0.1:${port}"
username = "admin"
password = "env:E2E_RF"

${bmcs}`;
}

beforeAll(async () => {
  sim = await startVcsim();
  port = freeTcpPort();
  base = `https://127.0.0.1:${port}`;
  image = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(new Uint8Array(2_000_000).fill(7)) });
  const ipmiPort = freeTcpPort();
  writeFileSync(
    join(dir, "config.toml"),
    daemonConfig(dir, `[[bmc]]
vm = "${VM0}"
address = "127.0.0.1"
port = ${ipmiPort}
username = "admin"
password = "env:E2E_RF"

[[bmc]]
vm = "${VM1}"
ipmi = false
`),
  );
  esxkit = Bun.spawn([binary, "serve", "-c", join(dir, "config.toml")], {
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", E2E_VC: sim.password, E2E_RF: PASSWORD },
    stdout: "pipe",
    stderr: "pipe",
  });
  void (async () => {
    for await (const c of esxkit.stdout) log += new TextDecoder().decode(c);
  })();
  void (async () => {
    for await (const c of esxkit.stderr) log += new TextDecoder().decode(c);
  })();
  // Until both VMs are found (Ids become their BIOS UUIDs).
  for (let i = 0; i < 150; i++) {
    try {
      const r = await rf("/redfish/v1/Systems");
      const ids = ((await r.json()) as { Members: Array<{ "@odata.id": string }> }).Members.map((m) => m["@odata.id"].split("/").pop() as string);
      if (ids.length === 2 && ids.every((x) => /^[0-9a-f-]{36}$/.test(x))) break;
    } catch {}
    await Bun.sleep(100);
  }
  const sys = (await (await rf(`/redfish/v1/Systems/${VM0}`)).json()) as { Id: string };
  uuid0 = sys.Id;
}, 120_000);

afterAll(async () => {
  esxkit?.kill("SIGTERM");
  await esxkit?.exited;
  image?.stop(true);
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("Redfish through python3-sushy 4.3.3", () => {
  test("systems, boot override Once, reset, firmware change refused while on and done while off", async () => {
    const out = await python("sushy_drive.py", `${base}/redfish/v1`, "admin", PASSWORD, `/redfish/v1/Systems/${uuid0}`, "auto", join(dir, "state/redfish.crt"));
    expect(out.session_token).toBe(true);
    expect((out.members as string[]).length).toBe(2);
    expect(out.identity).toBe(uuid0);
    expect(out.allowed_targets).toEqual(["BiosSetup", "Cd", "Hdd", "None", "Pxe"]);
    expect(out.allowed_resets).toContain("ForceRestart");
    expect((out.macs as string[])[0]).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(out.cpus).toBeGreaterThan(0);
    expect(out.boot_after).toEqual({ target: "Cd", enabled: "Once" });
    expect(out.power_after_on).toBe("On");
    expect(out.mode_change_status).toBe(409);
    expect(out.power_after_off).toBe("Off");
    expect(out.mode_after_patch_off).toBe(out.mode_wanted as string);
    expect(out.managers).toEqual([uuid0]);
  }, 120_000);

  test("a reset vCenter refuses raises in sushy with vCenter's reason (the simulator has no RebootGuest)", async () => {
    const out = await python("sushy_reset_fails.py", `${base}/redfish/v1`, "admin", PASSWORD, `/redfish/v1/Systems/${uuid0}`, join(dir, "state/redfish.crt"), "GracefulRestart");
    expect(out.power).toBe("PowerState.ON");
    expect(out.raised).toBe("ServerSideError");
    expect(out.status).toBe(500);
    expect(out.message).toContain("RebootGuest");
  }, 120_000);

  test("virtual media through the Manager: body-less eject, insert to the datastore, 409, 502", async () => {
    const url = `http://127.0.0.1:${image.port}/boot.iso`;
    const out = await python("sushy_media.py", `${base}/redfish/v1`, "admin", PASSWORD, `/redfish/v1/Systems/${uuid0}`, url, join(dir, "state/redfish.crt"));
    expect(out.devices).toEqual([`/redfish/v1/Managers/${uuid0}/VirtualMedia/Cd`]);
    expect(out.after_insert).toEqual({ image: url, inserted: true, write_protected: true });
    expect(out.second_insert).toBe(409);
    expect(out.after_eject).toEqual({ image: null, inserted: false });
    expect(out.bad_url).toBe(502);
    expect(log).toContain("media inserted");
  }, 120_000);
});

describe("Redfish through Ironic's redfish driver modules (python3-ironic)", () => {
  test("get_system, power state and power on/off, one-shot PXE boot device, enabled MACs", async () => {
    const out = await python("ironic_drive.py", base, `/redfish/v1/Systems/${uuid0}`, "admin", PASSWORD, join(dir, "state/redfish.crt"));
    expect(out.system).toBe(uuid0);
    expect(["power on", "power off"]).toContain(out.power as string);
    expect(out.boot).toEqual({ boot_device: "pxe", persistent: false });
    expect((out.macs as string[]).length).toBeGreaterThan(0);
    expect(out.power_after_on).toBe("power on");
    expect(out.power_after_off).toBe("power off");
  }, 120_000);
});

describe("Redfish through redfishtool", () => {
  const tool = async (...args: string[]) => {
    const p = Bun.spawn(["redfishtool", "-r", `127.0.0.1:${port}`, "-u", "admin", "-p", PASSWORD, "-S", "Always", ...args], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return { out, code };
  };
  test("Systems list/get, setBootOverride, Managers get", async () => {
    const list = await tool("Systems", "list");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)["Members@odata.count"]).toBe(2);
    const boot = await tool("Systems", "-I", uuid0, "setBootOverride", "Continuous", "Pxe");
    expect(boot.code).toBe(0);
    const got = JSON.parse((await tool("Systems", "-I", uuid0, "get")).out);
    expect(got.Boot.BootSourceOverrideTarget).toBe("Pxe");
    expect(got.Boot.BootSourceOverrideEnabled).toBe("Continuous");
    const mgr = JSON.parse((await tool("Managers", "-I", uuid0, "get")).out);
    expect(mgr.Links.ManagerForServers[0]["@odata.id"]).toBe(`/redfish/v1/Systems/${uuid0}`);
  }, 60_000);
});

describe("Redfish protocol rules and hostile input", () => {
  const sys = () => `/redfish/v1/Systems/${uuid0}`;
  const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; "@Message.ExtendedInfo": Array<{ MessageId: string }> } }).error;

  test("service root, $metadata and odata are public with OData-Version; everything else needs credentials", async () => {
    const r = await rf("/redfish/v1/", { auth: false });
    expect(r.status).toBe(200);
    expect(r.headers.get("odata-version")).toBe("4.0");
    expect((await rf("/redfish/v1/$metadata", { auth: false })).headers.get("content-type")).toContain("xml");
    expect((await rf("/redfish/v1/odata", { auth: false })).status).toBe(200);
    const denied = await rf("/redfish/v1/Systems", { auth: false });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Basic");
    expect((await errorOf(denied)).code).toBe("Base.1.8.NoValidSession");
    expect((await rf("/redfish/v1/Systems", { auth: false, headers: { "x-auth-token": "0".repeat(32) } })).status).toBe(401);
  });

  test("sessions: POST gives a token and Location; DELETE logs out", async () => {
    const r = await rf("/redfish/v1/SessionService/Sessions", { auth: false, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ UserName: "admin", Password: PASSWORD }) });
    expect(r.status).toBe(201);
    const token = r.headers.get("x-auth-token") as string;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const loc = r.headers.get("location") as string;
    expect((await rf("/redfish/v1/Systems", { auth: false, headers: { "x-auth-token": token } })).status).toBe(200);
    expect((await rf(loc, { auth: false, method: "DELETE", headers: { "x-auth-token": token } })).status).toBe(204);
    expect((await rf("/redfish/v1/Systems", { auth: false, headers: { "x-auth-token": token } })).status).toBe(401);
  });

  test.each([
    ["malformed JSON", "{\"Boot\":", "Base.1.8.MalformedJSON"],
    ["unknown property", JSON.stringify({ Bogus: 1 }), "Base.1.8.PropertyUnknown"],
    ["unknown Boot property", JSON.stringify({ Boot: { BootNext: "x" } }), "Base.1.8.PropertyUnknown"],
    ["value not in list", JSON.stringify({ Boot: { BootSourceOverrideTarget: "Floppy" } }), "Base.1.8.PropertyValueNotInList"],
    ["wrong type", JSON.stringify({ Boot: { BootSourceOverrideEnabled: 7 } }), "Base.1.8.PropertyValueTypeError"],
    ["not an object", "[1,2]", "Base.1.8.MalformedJSON"],
  ])("PATCH with %s is 400 %s", async (_name, body, code) => {
    const r = await rf(sys(), { method: "PATCH", headers: { "content-type": "application/json" }, body });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe(code);
  });

  test("If-Match: a stale ETag is 412, the current one applies", async () => {
    const got = await rf(sys());
    const etag = got.headers.get("etag") as string;
    expect(etag).toMatch(/^W\/"/);
    const stale = await rf(sys(), { method: "PATCH", headers: { "content-type": "application/json", "if-match": 'W/"0000"' }, body: JSON.stringify({ Boot: { BootSourceOverrideTarget: "Hdd" } }) });
    expect(stale.status).toBe(412);
    const ok = await rf(sys(), { method: "PATCH", headers: { "content-type": "application/json", "if-match": etag }, body: JSON.stringify({ Boot: { BootSourceOverrideTarget: "Hdd" } }) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { Boot: { BootSourceOverrideTarget: string } }).Boot.BootSourceOverrideTarget).toBe("Hdd");
  });

  // (A bare %2e%2e segment is resolved by the client's URL parser before it is sent.)
  test("405 with Allow, 404 for unknown and traversing ids, 413 for a huge body, Reset parameter checks", async () => {
    const r = await rf(`${sys()}/Actions/ComputerSystem.Reset`);
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST");
    for (const p of ["/redfish/v1/Systems/nope", "/redfish/v1/Systems/..%2f..%2fetc", "/redfish/v1/Systems/a%00b", "/etc/passwd"]) {
      const nf = await rf(p);
      expect(nf.status).toBe(404);
      expect((await errorOf(nf)).code).toBe("Base.1.8.ResourceNotFound");
    }
    const big = await rf(sys(), { method: "PATCH", headers: { "content-type": "application/json" }, body: `{"Boot":{"x":"${"a".repeat(200_000)}"}}` });
    expect(big.status).toBe(413);
    const reset = (body: unknown) => rf(`${sys()}/Actions/ComputerSystem.Reset`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await errorOf(await reset({}))).code).toBe("Base.1.8.ActionParameterMissing");
    expect((await errorOf(await reset({ ResetType: "Explode" }))).code).toBe("Base.1.8.ActionParameterValueNotInList");
    expect((await errorOf(await reset({ ResetType: "On", Extra: 1 }))).code).toBe("Base.1.8.ActionParameterUnknown");
  });

  test("a Redfish-only machine (ipmi = false) is a system found by its name too", async () => {
    const r = await rf(`/redfish/v1/Systems/${VM1}`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { Name: string }).Name).toBe(VM1);
  });

  test("a slowloris connection neither stalls other clients nor lives past the idle timeout", async () => {
    let closedAt = 0;
    const opened = performance.now();
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { rejectUnauthorized: false },
      socket: {
        data() {},
        close() {
          closedAt = performance.now();
        },
      },
    });
    sock.write("GET /redfish/v1/Systems HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => sock.write("X-Slow: 1\r\n"), 5000);
    try {
      expect((await rf("/redfish/v1/Systems")).status).toBe(200);
      for (let i = 0; i < 450 && !closedAt; i++) await Bun.sleep(100);
    } finally {
      clearInterval(drip);
      sock.end();
    }
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - opened).toBeLessThan(40_000);
  }, 60_000);

  test("esxkit status shows the Redfish service and its sessions", async () => {
    const p = Bun.spawn([binary, "status", "--socket", join(dir, "control.sock")], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out).toContain("REDFISH");
    expect(out).toContain(`127.0.0.1:${port}`);
    expect(out).toContain("redfish only");
    expect(out).not.toContain(PASSWORD);
  });

  test("a second esxkit serve on the same Redfish address is refused (no SO_REUSEPORT split of the connections)", async () => {
    const other = join(dir, "second");
    writeFileSync(
      join(dir, "second.toml"),
      daemonConfig(other, `[[bmc]]
vm = "${VM1}"
ipmi = false
`),
    );
    const second = Bun.spawn([binary, "serve", "-c", join(dir, "second.toml")], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", E2E_VC: sim.password, E2E_RF: "another-password-7" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    void (async () => {
      for await (const c of second.stdout) out += new TextDecoder().decode(c);
    })();
    try {
      for (let i = 0; i < 100 && !/Redfish listening|in use/.test(out); i++) await Bun.sleep(100);
      expect(out).toContain(`127.0.0.1:${port}/tcp in use (EADDRINUSE)`);
      expect(out).not.toContain("Redfish listening");
      // Every new connection still reaches the first daemon (its password, its two systems).
      for (let i = 0; i < 8; i++) {
        const r = await rf("/redfish/v1/Systems", { headers: { connection: "close" } });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { "Members@odata.count": number })["Members@odata.count"]).toBe(2);
      }
    } finally {
      second.kill("SIGTERM");
      await second.exited;
    }
  }, 30_000);

  test("TLS 1.1 is refused; the generated key is 0600", async () => {
    const p = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-tls1_1"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(`${out}${err}`).toMatch(/alert protocol version|no protocols available|wrong version/i);
    expect(statSync(join(dir, "state/redfish.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "state/redfish.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
  });

  test("failed logins are rate-limited per source (last: it locks this source out); the password never reaches the log", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await rf("/redfish/v1/Systems", { headers: { authorization: `Basic ${Buffer.from("admin:wrong-guess").toString("base64")}` } });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain("wrong-guess");
  });
});
