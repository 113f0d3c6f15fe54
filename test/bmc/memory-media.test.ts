// MemoryMedia, the in-memory VirtualMedia that front-end tests use, keeps the contract of the
// vSphere one from outside: it really fetches the image (same URL rules, deadlines, credentials
// and coded errors), reports progress and state, and refuses what the vSphere one refuses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createMemoryMedia } from "../../src/bmc/memory-media.ts";
import { errorCode } from "../../src/errors.ts";
import { IMAGE_PASSWORD, IMAGE_USER, imageSha256, type ImageServer, startImageServer } from "../support/bmc/image-server.ts";

let img: ImageServer;
beforeAll(async () => {
  img = await startImageServer();
});
afterAll(() => img.stop());

describe("MemoryMedia", () => {
  test("insert fetches the whole image (basic auth), state shows it without credentials; eject clears it", async () => {
    const m = createMemoryMedia();
    expect(m.slots()).toEqual(["cd"]);
    const url = `${img.base.replace("http://", `http://${IMAGE_USER}:${IMAGE_PASSWORD}@`)}/auth/mem?size=300000`;
    await m.insert("cd", url);
    expect(m.imageSha256("cd")).toBe(imageSha256("mem", 300000));
    const s = m.state("cd");
    expect(s).toMatchObject({ inserted: true, connected: true, image: `${img.base}/auth/mem?size=300000`, transfer: { state: "done", bytes: 300000, total: 300000 } });
    expect(JSON.stringify(s)).not.toContain(IMAGE_PASSWORD);
    await m.insert("cd", url); // the same image again: nothing to do
    expect(errorCode(await m.insert("cd", `${img.base}/img/other`).catch((e) => e))).toBe("ESX_MEDIA_BUSY");
    await m.eject("cd");
    expect(m.state("cd")).toMatchObject({ inserted: false, connected: false });
    await m.eject("cd");
  });

  test.each([
    ["404", () => `${img.base}/status/404`, "ESX_MEDIA_SOURCE", "http_status"],
    ["stalls", () => `${img.base}/stall?size=1000000&after=1000`, "ESX_MEDIA_SOURCE", "idle"],
    ["ftp", () => "ftp://127.0.0.1/x", "ESX_MEDIA_URL", undefined],
    ["has broken percent-encoding in its credentials", () => `${img.base.replace("http://", "http://u:%E0%A4%A@")}/img/x`, "ESX_MEDIA_URL", undefined],
  ])("a URL that %s: %s", async (_n, url, code, reason) => {
    const m = createMemoryMedia({ idleTimeoutMs: 500, connectTimeoutMs: 500 });
    const err = await m.insert("cd", url()).catch((e) => e);
    expect(errorCode(err)).toBe(code);
    if (reason) expect(err.reason).toBe(reason);
    expect(m.state("cd").inserted).toBe(false);
  });

  test("foreign media and missing slots are refused with their codes", async () => {
    const m = createMemoryMedia({ slots: ["cd"] });
    m.setForeign("cd", "ISO [ds] customer.iso");
    expect(errorCode(await m.insert("cd", `${img.base}/img/x?size=10`).catch((e) => e))).toBe("ESX_MEDIA_FOREIGN");
    expect(errorCode(await m.insert("removable", `${img.base}/img/x?size=10`).catch((e) => e))).toBe("ESX_MEDIA_SLOT");
    expect(() => m.state("removable")).toThrow();
  });
});
