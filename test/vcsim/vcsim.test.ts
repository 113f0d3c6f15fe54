import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVcsim, VcsimSet } from "../support/vcsim.ts";
import { SoapSession, faultType, tag } from "./soap.ts";

const sims = new VcsimSet();
afterAll(() => sims.stopAll());
const start = sims.start.bind(sims);

describe("vcsim smoke", () => {
  test.each([
    ["vpx", "VirtualCenter", "group-d1"],
    ["esx", "HostAgent", "ha-folder-root"],
  ] as const)("%s model answers RetrieveServiceContent over HTTPS", async (mode, apiType, rootFolder) => {
    const vc = await start({ mode });
    expect(vc.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
    expect(vc.thumbprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(vc.thumbprintSha1).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(vc.certPem).toContain("BEGIN CERTIFICATE");
    // insecure fetch: the smoke test checks the simulator, not certificate handling
    const res = await fetch(vc.url, {
      method: "POST",
      headers: { "content-type": "text/xml; charset=utf-8", soapaction: "urn:vim25/6.5" },
      body:
        `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
        `<soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this>` +
        `</RetrieveServiceContent></soapenv:Body></soapenv:Envelope>`,
      tls: { rejectUnauthorized: false },
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(tag(body, "apiType")).toBe(apiType);
    expect(tag(body, "rootFolder")).toBe(rootFolder);
  });

  test("the served certificate verifies as its own CA, and its thumbprint matches", async () => {
    const vc = await start({ mode: "esx" });
    const s = new SoapSession(vc);
    const sc = await s.serviceContent(); // strict TLS with ca = certPem
    expect(tag(sc.body, "apiType")).toBe("HostAgent");
    const der = Buffer.from(vc.certPem!.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    const hex = new Bun.CryptoHasher("sha256").update(der).digest("hex").toUpperCase().match(/../g)!.join(":");
    expect(hex).toBe(vc.thumbprintSha256);
  });

  test("login: the configured credentials work, a wrong password gets InvalidLogin", async () => {
    const vc = await start({ mode: "esx", username: "root", password: "s3cret!<&>" });
    const good = new SoapSession(vc);
    const ok = await good.login();
    expect(ok.status).toBe(200);
    expect(tag(ok.body, "userName")).toBe("root");
    expect(good.cookie).toContain("vmware_soap_session");

    const bad = new SoapSession(vc);
    const denied = await bad.login("root", "wrong");
    expect(denied.status).toBe(500);
    expect(faultType(denied.body)).toBe("InvalidLogin");

    const wrongUser = await new SoapSession(vc).login("admin", "s3cret!<&>");
    expect(faultType(wrongUser.body)).toBe("InvalidLogin");
  });

  test("-tls=false serves plain http; model flags shape the inventory", async () => {
    const vc = await start({ tls: false, args: ["-cluster", "2", "-host", "2", "-standalone-host", "0", "-vm", "1"] });
    expect(vc.url).toMatch(/^http:\/\//);
    expect(vc.thumbprintSha256).toBe("");
    const s = new SoapSession(vc);
    expect((await s.login()).status).toBe(200);
    const hosts = await s.list("HostSystem", ["name"]);
    expect(hosts.match(/<obj type="HostSystem">/g)?.length).toBe(4);
    const vms = await s.list("VirtualMachine", ["name"]);
    expect(vms.match(/<obj type="VirtualMachine">/g)?.length).toBe(2); // 1 per cluster pool
  });

  test("stop() ends the process; stdin EOF ends it too", async () => {
    const a = await start({ mode: "esx" });
    await a.stop();
    expect(a.proc.exitCode).toBe(0);

    const b = await start({ mode: "esx" });
    b.proc.stdin.end();
    const code = await Promise.race([b.proc.exited, Bun.sleep(10_000).then(() => "still running")]);
    expect(code).toBe(0);
  });

  test("-tls-cert/-tls-key keep the thumbprint across restarts; -cert-out writes the PEM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vcsim-cert-"));
    try {
      const keep = { tlsCertPath: join(dir, "host.crt"), tlsKeyPath: join(dir, "host.key") };
      const first = await start({ mode: "esx", ...keep, args: ["-cert-out", join(dir, "out.pem")] });
      expect(readFileSync(join(dir, "out.pem"), "utf8")).toBe(first.certPem!);
      await first.stop();
      const second = await start({ mode: "esx", ...keep });
      expect(second.thumbprintSha256).toBe(first.thumbprintSha256);
      const other = await start({ mode: "esx" });
      expect(other.thumbprintSha256).not.toBe(first.thumbprintSha256);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad flags fail with a clear error", async () => {
    await expect(startVcsim({ args: ["-mode", "nope"] })).rejects.toThrow(/-mode: expected vpx or esx/);
  });
});
