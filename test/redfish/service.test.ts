// The Redfish service over in-memory machines and media (MemoryBackend, MemoryMedia): a slow
// InsertMedia answers 202 with a task monitor that shows progress and then the result;
// Prefer: respond-async answers 202 at once; the removable slot is a USBStick; a Reset while
// another action runs is 409; the transfer shows in status().
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BmcActionQueue } from "../../src/bmc/action-queue.ts";
import { MachineRegistry } from "../../src/bmc/machine.ts";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { MemoryMedia } from "../../src/bmc/memory-media.ts";
import { createRedfishService } from "../../src/bmc/redfish-service.ts";
import { silentLogger } from "../../src/log/logger.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-rf-svc-"));
const UUID = "4210a5c3-0000-4000-8000-000000000001";
const backend = new MemoryBackend({ name: "m1", uuid: UUID, power: "off", firmware: "efi", actionDelayMs: 300 });
const registry = new MachineRegistry();
registry.add({ name: "m1", backend, actions: new BmcActionQueue({ logger: silentLogger }), media: new MemoryMedia({ slots: ["cd", "removable"] }), redfish: true });
const svc = createRedfishService(
  { listen: "127.0.0.1:0", username: "admin", password: "pw-unit", session_timeout_s: 60, max_sessions: 4, media_wait_s: 1 },
  { registry, stateDir: join(dir, "state"), logger: silentLogger, version: "test" },
);
let base = "";
/** An image that takes ~2.4 s: 3 chunks of 100 kB, 800 ms apart, with a Content-Length. */
const slow = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () =>
    new Response(
      new ReadableStream({
        async pull(c) {
          for (let i = 0; i < 3; i++) {
            await Bun.sleep(800);
            c.enqueue(new Uint8Array(100_000));
          }
          c.close();
        },
      }),
      { headers: { "content-length": "300000" } },
    ),
});

const auth = { authorization: `Basic ${Buffer.from("admin:pw-unit").toString("base64")}` };
const rf = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) }, tls: { rejectUnauthorized: false } } as RequestInit);
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  rf(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? headers : { "content-type": "application/json", ...headers } });
const cd = `/redfish/v1/Managers/${UUID}/VirtualMedia/Cd`;

/** Poll a task monitor until it stops answering 202 (at most 5 s). */
async function settled(monitor: string): Promise<Response> {
  let r = await rf(monitor);
  for (let i = 0; i < 50 && r.status === 202; i++) {
    await Bun.sleep(100);
    r = await rf(monitor);
  }
  return r;
}

beforeAll(async () => {
  await svc.start();
  base = `https://127.0.0.1:${svc.port()}`;
});
afterAll(async () => {
  await svc.stop();
  slow.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe("long InsertMedia", () => {
  test("202 + task monitor after media_wait_s, progress while running, 204 and Inserted after", async () => {
    const r = await post(`${cd}/Actions/VirtualMedia.InsertMedia`, { Image: `http://127.0.0.1:${slow.port}/big.iso`, TransferProtocolType: "HTTP" });
    expect(r.status).toBe(202);
    const monitor = r.headers.get("location") as string;
    expect(monitor).toMatch(/^\/redfish\/v1\/TaskService\/TaskMonitors\//);
    const running = await rf(monitor);
    expect(running.status).toBe(202);
    expect(((await running.json()) as { TaskState: string }).TaskState).toBe("Running");
    const st = svc.status() as { media: Array<{ device: string; transfer: string }> };
    expect(st.media[0]).toMatchObject({ device: "Cd", transfer: "downloading" });
    const final = await settled(monitor);
    expect(final.status).toBe(204);
    const media = (await (await rf(cd)).json()) as { Inserted: boolean; Image: string; Oem: { esxkit: { TransferredBytes: number } } };
    expect(media.Inserted).toBe(true);
    expect(media.Oem.esxkit.TransferredBytes).toBe(300_000);
    expect((await post(`${cd}/Actions/VirtualMedia.EjectMedia`)).status).toBe(204);
  }, 20_000);

  test("Prefer: respond-async answers 202 at once; a failing image ends the task with the 502 body", async () => {
    const r = await post(`${cd}/Actions/VirtualMedia.InsertMedia`, { Image: "http://127.0.0.1:9/x.iso" }, { prefer: "respond-async" });
    expect(r.status).toBe(202);
    const monitor = r.headers.get("location") as string;
    const final = await settled(monitor);
    expect(final.status).toBe(502);
    expect(((await final.json()) as { error: { code: string } }).error.code).toBe("Base.1.8.CouldNotEstablishConnection");
  });

  test("InsertMedia parameter errors: missing Image, not a URL, ftp, bad TransferProtocolType, Inserted false", async () => {
    const codes = async (body: unknown) => ((await (await post(`${cd}/Actions/VirtualMedia.InsertMedia`, body)).json()) as { error: { code: string } }).error.code;
    expect(await codes({})).toBe("Base.1.8.ActionParameterMissing");
    expect(await codes({ Image: "not a url" })).toBe("Base.1.8.ActionParameterValueTypeError");
    expect(await codes({ Image: "ftp://h/x.iso" })).toBe("Base.1.8.ActionParameterValueNotInList");
    expect(await codes({ Image: "https://h/x.iso", TransferProtocolType: "HTTP" })).toBe("Base.1.8.ActionParameterValueNotInList");
    expect(await codes({ Image: "https://h/x.iso", Inserted: false })).toBe("Base.1.8.ActionParameterValueNotInList");
  });
});

describe("systems over memory machines", () => {
  test("the removable slot is a USBStick under the System too", async () => {
    const r = (await (await rf(`/redfish/v1/Systems/${UUID}/VirtualMedia`)).json()) as { Members: Array<{ "@odata.id": string }> };
    expect(r.Members.map((m) => m["@odata.id"].split("/").pop())).toEqual(["Cd", "USBStick"]);
    const usb = (await (await rf(`/redfish/v1/Systems/${UUID}/VirtualMedia/USBStick`)).json()) as { MediaTypes: string[] };
    expect(usb.MediaTypes).toEqual(["USBStick"]);
  });

  test("Reset while a different action runs is 409; the same one joins; SecureBoot shows for EFI", async () => {
    const reset = (t: string) => post(`/redfish/v1/Systems/${UUID}/Actions/ComputerSystem.Reset`, { ResetType: t });
    const on = reset("On");
    await Bun.sleep(50);
    const off = await reset("ForceOff");
    expect(off.status).toBe(409);
    expect(((await off.json()) as { error: { code: string } }).error.code).toBe("Base.1.8.ResourceInUse");
    expect((await on).status).toBe(204);
    expect(backend.power).toBe("on");
    const sb = await rf(`/redfish/v1/Systems/${UUID}/SecureBoot`);
    expect(((await sb.json()) as { SecureBootEnable: boolean }).SecureBootEnable).toBe(false);
    expect(backend.history.filter((h) => h === "on")).toHaveLength(1);
  });

  test("PATCH of the mode while on is 409 with a clear message; a target alone keeps Enabled", async () => {
    const patch = (boot: unknown) => rf(`/redfish/v1/Systems/${UUID}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ Boot: boot }) });
    const mode = await patch({ BootSourceOverrideMode: "Legacy" });
    expect(mode.status).toBe(409);
    expect(((await mode.json()) as { error: { message: string } }).error.message).toMatch(/powered off/);
    const once = await patch({ BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous" });
    expect(once.status).toBe(200);
    const target = await patch({ BootSourceOverrideTarget: "Cd" });
    const body = (await target.json()) as { Boot: Record<string, string> };
    expect(body.Boot.BootSourceOverrideTarget).toBe("Cd");
    expect(body.Boot.BootSourceOverrideEnabled).toBe("Continuous");
  });
});

describe("hostile input", () => {
  test("2,000 random methods, paths, headers and bodies: every answer is a Redfish error body or a resource, and the service still answers", async () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n); // high bits: an LCG's low bits cycle
    };
    const pieces = ["redfish", "v1", "Systems", UUID, "m1", "Managers", "VirtualMedia", "Cd", "USBStick", "Actions", "ComputerSystem.Reset", "VirtualMedia.InsertMedia", "VirtualMedia.EjectMedia", "SessionService", "Sessions", "TaskService", "TaskMonitors", "%2e%2e", "%ff", "..", "", "$metadata", "x".repeat(40)];
    const bodies = ["", "{", "null", "[]", "1e999", '{"ResetType":null}', '{"Image":{"a":1}}', '{"Boot":{"BootSourceOverrideTarget":["Pxe"]}}', '{"Boot":null}', '{"__proto__":{"x":1}}', '{"UserName":"admin","Password":7}', "\u0000\u0001", '{"Image":"http://127.0.0.1:9/x","WriteProtected":"yes"}', JSON.stringify({ a: "b".repeat(5000) })];
    const methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "TRACE"];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const real = [`/redfish/v1/Systems/${UUID}`, `/redfish/v1/Systems/${UUID}/Actions/ComputerSystem.Reset`, `${cd}/Actions/VirtualMedia.InsertMedia`, `${cd}/Actions/VirtualMedia.EjectMedia`, "/redfish/v1/SessionService/Sessions", `/redfish/v1/Systems/m1/VirtualMedia/USBStick`, "/redfish/v1/TaskService/Tasks", "/redfish/v1/"];
      const path = rnd(3) === 0 ? `/${Array.from({ length: 1 + rnd(7) }, () => pieces[rnd(pieces.length)]).join("/")}` : (real[rnd(real.length)] as string);
      const method = methods[rnd(methods.length)] as string;
      const headers: Record<string, string> = rnd(4) === 0 ? {} : { ...auth };
      if (rnd(3) === 0) headers["content-type"] = ["application/json", "text/plain", "application/x-www-form-urlencoded"][rnd(3)] as string;
      if (rnd(5) === 0) headers["if-match"] = ['W/"x"', "*", ""][rnd(3)] as string;
      if (rnd(6) === 0) headers["x-auth-token"] = "f".repeat(rnd(64));
      const body = method === "GET" || method === "HEAD" || method === "TRACE" ? undefined : bodies[rnd(bodies.length)];
      const r = await fetch(`${base}${path}`, { method, headers, body, tls: { rejectUnauthorized: false } } as RequestInit);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const text = await r.text();
      expect(r.status).toBeLessThan(500);
      // (HEAD and TRACE answers carry no body on the wire.)
      if (r.status >= 400 && method !== "HEAD" && method !== "TRACE") expect(JSON.parse(text).error.code).toMatch(/^Base\.1\.8\./);
    }
    expect(statuses.size).toBeGreaterThan(4);
    expect((await rf("/redfish/v1/Systems")).status).toBe(200);
  }, 120_000);
});
