// The [console] section and [[bmc]] serial: defaults, and broken input that names the file,
// line, key path and caret like every other config problem.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { configProblem } from "../support/config/problem.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-console-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { VC_PASSWORD: "vc-secret-1", BMC_PASSWORD: "bmc-secret-1" } as NodeJS.ProcessEnv;
const vcenter = `[vcenter.lab]\nurl = "https://vcsa.example/sdk"\nusername = "u"\npassword = "env:VC_PASSWORD"\n`;
// Lines 5..10 (line 10 is `extra`'s first line).
const bmc = (extra = "") => `\n[[bmc]]\nvm = "vm1"\nport = 6230\nusername = "admin"\npassword = "env:BMC_PASSWORD"\n${extra}`;
const SHA1 = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";

interface Case {
  name: string;
  toml: string;
  line: number;
  path: string;
  message: RegExp;
  caret?: string;
}

const cases: Case[] = [
  { name: "serial without [console]", toml: `${vcenter}${bmc("serial = true\n")}`, line: 11, path: "bmc[0].serial", message: /serial = true needs a \[console\] section/ },
  { name: "serial that is not a bool", toml: `${vcenter}${bmc('serial = "yes"\n')}`, line: 11, path: "bmc[0].serial", message: /expected true or false, got "yes"/, caret: 'serial = "yes"' },
  { name: "serial with [console] but no proxy_uri", toml: `${vcenter}${bmc("serial = true\n")}\n[console]\nlisten = "0.0.0.0:13370"\n`, line: 13, path: "console", message: /missing: proxy_uri \(bmc\[0\] has serial = true.*telnet:\/\/esxkit\.example\.com:13370/ },
  { name: "proxy_uri with an unknown scheme", toml: `${vcenter}\n[console]\nproxy_uri = "ssh://esxkit:13370"\n`, line: 7, path: "console.proxy_uri", message: /expected a vSPC URI like "telnet:\/\/esxkit\.example\.com:13370".*got "ssh:\/\/esxkit:13370"/, caret: 'proxy_uri = "ssh://esxkit:13370"' },
  { name: "proxy_uri without a port", toml: `${vcenter}\n[console]\nproxy_uri = "telnet://esxkit.example.com"\n`, line: 7, path: "console.proxy_uri", message: /expected a vSPC URI/ },
  { name: "proxy_uri port out of range", toml: `${vcenter}\n[console]\nproxy_uri = "telnet://esxkit:99999"\n`, line: 7, path: "console.proxy_uri", message: /port 99999 is out of range 1\.\.65535/ },
  { name: "a thumbprint on telnet://", toml: `${vcenter}\n[console]\nproxy_uri = "telnet://esxkit:13370#thumbprint=${SHA1}"\n`, line: 7, path: "console.proxy_uri", message: /needs telnets:\/\/, not telnet:\/\// },
  { name: "a thumbprint that is not one", toml: `${vcenter}\n[console]\nproxy_uri = "telnets://esxkit:13370#thumbprint=ABCD"\n`, line: 7, path: "console.proxy_uri", message: /#thumbprint=ABCD is not a SHA-1 or SHA-256 thumbprint/ },
  { name: "tls_cert without tls_key", toml: `${vcenter}\n[console]\nproxy_uri = "telnets://esxkit:13370"\ntls_cert = "/etc/esxkit/vspc.crt"\n`, line: 8, path: "console.tls_cert", message: /tls_cert and tls_key go together/ },
  { name: "tls_key without tls_cert", toml: `${vcenter}\n[console]\nproxy_uri = "telnets://esxkit:13370"\ntls_key = "/etc/esxkit/vspc.key"\n`, line: 8, path: "console.tls_key", message: /tls_cert and tls_key go together/ },
  { name: "TLS listener with a telnet:// proxy_uri", toml: `${vcenter}\n[console]\nproxy_uri = "telnet://esxkit:13370"\ntls_cert = "a.crt"\ntls_key = "a.key"\n`, line: 7, path: "console.proxy_uri", message: /the listener speaks TLS: use telnets:\/\// },
  { name: "listen that is not host:port", toml: `${vcenter}\n[console]\nlisten = "0.0.0.0:x"\n`, line: 7, path: "console.listen", message: /expected "host:port" or "host" \(IPv6 in brackets\), got "0\.0\.0\.0:x"/ },
  { name: "listen port out of range", toml: `${vcenter}\n[console]\nlisten = "0.0.0.0:70000"\n`, line: 7, path: "console.listen", message: /port 70000 is out of range/ },
  { name: "log_max_bytes too small", toml: `${vcenter}\n[console]\nlog_max_bytes = 100\n`, line: 7, path: "console.log_max_bytes", message: /expected an integer 4096\.\.1073741824, got 100/ },
  { name: "log_files negative", toml: `${vcenter}\n[console]\nlog_files = -1\n`, line: 7, path: "console.log_files", message: /expected an integer 0\.\.100, got -1/ },
  { name: "ring_bytes not a number", toml: `${vcenter}\n[console]\nring_bytes = "64k"\n`, line: 7, path: "console.ring_bytes", message: /expected an integer 1024\.\.16777216, got "64k"/ },
  { name: "max_connections zero", toml: `${vcenter}\n[console]\nmax_connections = 0\n`, line: 7, path: "console.max_connections", message: /expected an integer 1\.\.65535, got 0/ },
  { name: "unknown key in [console] with a hint", toml: `${vcenter}\n[console]\nproxy_url = "telnet://e:1"\n`, line: 7, path: "console.proxy_url", message: /unknown key "proxy_url" \(did you mean "proxy_uri"\?\)/ },
];

describe("broken [console] configs", () => {
  test.each(cases)("$name", ({ name, toml, line, path, message, caret }) => {
    const file = join(dir, `${name.replace(/\W+/g, "-")}.toml`);
    const match = configProblem(file, toml, message, env);
    expect(match?.line).toBe(line);
    expect(match?.keyPath).toBe(path);
    expect(match?.message.startsWith(`${file}:${line}:`)).toBe(true);
    // The code block shows the offending line with a caret under it.
    if (caret) expect(match?.message).toMatch(new RegExp(`${caret.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\n\\s*\\|?\\s*\\^`));
  });
});

describe("valid [console] configs", () => {
  test("defaults: listen on 13370, 1 MiB logs, 3 files, 64 KiB ring, 256 connections; serial defaults to false", () => {
    const c = parseConfig(`${vcenter}${bmc()}\n[console]\n`, join(dir, "d.toml"), { env });
    expect(c.console).toEqual({ listen: "0.0.0.0:13370", log_max_bytes: 1_048_576, log_files: 3, ring_bytes: 65_536, max_connections: 256 } as never);
    expect(c.bmc[0]?.serial).toBe(false);
  });

  test("no [console]: none in the typed config", () => {
    expect(parseConfig(`${vcenter}${bmc()}`, join(dir, "n.toml"), { env }).console).toBeUndefined();
  });

  test.each([
    ["localhost", "localhost:13370"],
    ["[::]", "[::]:13370"],
    ["[::1]:2000", "[::1]:2000"],
    ["127.0.0.1:13371", "127.0.0.1:13371"],
  ])("listen %s is %s", (written, used) => {
    expect(parseConfig(`${vcenter}\n[console]\nlisten = "${written}"\n`, join(dir, "l.toml"), { env }).console?.listen).toBe(used);
  });

  test("telnets with a pin, TLS files resolved against the config's directory, serial on", () => {
    const uri = `telnets://esxkit.example.com:13370#thumbprint=${SHA1}`;
    const c = parseConfig(`${vcenter}${bmc("serial = true\n")}\n[console]\nproxy_uri = "${uri}"\ntls_cert = "vspc.crt"\ntls_key = "/k/vspc.key"\nring_bytes = 1024\n`, join(dir, "t.toml"), { env });
    expect(c.console).toMatchObject({ proxy_uri: uri, tls_cert: join(dir, "vspc.crt"), tls_key: "/k/vspc.key", ring_bytes: 1024 });
    expect(c.bmc[0]?.serial).toBe(true);
  });
});
