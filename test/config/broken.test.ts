// `config check` on broken configs: each names the file, line and key path of the problem.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { configProblem } from "../support/config/problem.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A secret file whose first line is blank (the secret on line 3): "is empty" sent people looking at the wrong thing.
const blankFirstLine = join(dir, "blank-first-line.secret");
writeFileSync(blankFirstLine, "\n\nvc-secret-on-line-3\n", { mode: 0o600 });

const env = { VC_PASSWORD: "vc-secret-1", BMC_PASSWORD: "bmc-secret-1", REDFISH_PASSWORD: "rf-secret" } as NodeJS.ProcessEnv;
const vcenter = `[vcenter.lab]\nurl = "https://vcsa.example/sdk"\nusername = "u"\npassword = "env:VC_PASSWORD"\n`;
const bmc = (extra = "", port = "6230") => `\n[[bmc]]\nvm = "vm1"\nport = ${port}\nusername = "admin"\npassword = "env:BMC_PASSWORD"\n${extra}`;

interface Case {
  name: string;
  toml: string | Uint8Array;
  line?: number;
  path?: string;
  message: RegExp;
}

const cases: Case[] = [
  { name: "TOML syntax error", toml: `${vcenter}name = esx01\n`, line: 5, message: /TOML syntax/ },
  { name: "unknown key with hint", toml: `${vcenter}${bmc('prot = 1\n')}`, line: 11, path: "bmc[0].prot", message: /unknown key "prot" \(did you mean "port"\?\)/ },
  { name: "unknown key in a [vcenter.NAME] with hint", toml: `${vcenter}pasword = "x"\n`, line: 5, path: "vcenter.lab.pasword", message: /unknown key "pasword" \(did you mean "password"\?\)/ },
  { name: "second unknown key in one table", toml: `${vcenter}${bmc('prot = 1\nusrname = "a"\n')}`, line: 12, path: "bmc[0].usrname", message: /unknown key "usrname" \(did you mean "username"\?\)/ },
  { name: "unknown section", toml: `${vcenter}[vcentre.x]\n`, line: 5, path: "vcentre", message: /unknown key "vcentre" \(did you mean "vcenter"\?\)/ },
  { name: "wrong type for port", toml: `${vcenter}${bmc("", '"62x0"')}`, line: 8, path: "bmc[0].port", message: /expected an integer 1\.\.65535, got "62x0"/ },
  { name: "port out of range", toml: `${vcenter}${bmc("", "70000")}`, line: 8, path: "bmc[0].port", message: /expected an integer 1\.\.65535, got 70000/ },
  { name: "missing vcenter reference", toml: `${vcenter}${bmc('vcenter = "prod"\n')}`, line: 11, path: "bmc[0].vcenter", message: /no \[vcenter\.prod\] section \(have: lab\)/ },
  {
    name: "duplicate BMC port",
    toml: `${vcenter}${bmc()}\n[[bmc]]\nvm = "vm2"\nport = 6230\nusername = "a"\npassword = "env:BMC_PASSWORD"\n`,
    line: 14,
    path: "bmc[1].port",
    message: /port 6230 on :: is already used by bmc\[0\]/,
  },
  { name: "unreadable secret file", toml: `${vcenter.replace("env:VC_PASSWORD", "file:/nonexistent/esxkit-secret")}`, line: 4, path: "vcenter.lab.password", message: /file:\/nonexistent\/esxkit-secret: cannot read .* \(ENOENT\)/ },
  { name: "secret file with a blank first line", toml: `${vcenter.replace("env:VC_PASSWORD", `file:${blankFirstLine}`)}`, line: 4, path: "vcenter.lab.password", message: /blank-first-line\.secret: its first line is empty \(the secret is the first line\)\n(?!.*vc-secret-on-line-3)/s },
  { name: "unset environment secret", toml: `${vcenter.replace("env:VC_PASSWORD", "env:NOT_SET_ANYWHERE")}`, line: 4, path: "vcenter.lab.password", message: /environment variable NOT_SET_ANYWHERE is not set/ },
  { name: "bad UTF-8", toml: new Uint8Array([...new TextEncoder().encode(`${vcenter}# caf`), 0xc3, 0x28, 0x0a]), line: 5, message: /invalid UTF-8/ },
  { name: "two TLS modes", toml: `${vcenter}insecure = true\nthumbprint = "${"AB:".repeat(31)}AB"\n`, path: "vcenter.lab.insecure", message: /choose one of thumbprint, ca or insecure/ },
  { name: "max_connections of 0", toml: `${vcenter}max_connections = 0\n`, line: 5, path: "vcenter.lab.max_connections", message: /expected an integer 1\.\.1024, got 0/ },
  { name: "bad thumbprint", toml: `${vcenter}thumbprint = "XYZ"\n`, line: 5, path: "vcenter.lab.thumbprint", message: /SHA-1 or SHA-256 thumbprint/ },
  { name: "no VM selector", toml: `${vcenter}\n[[bmc]]\nport = 6230\nusername = "a"\npassword = "env:BMC_PASSWORD"\n`, line: 6, path: "bmc[0]", message: /one of vm, vm_uuid or instance_uuid/ },
  { name: "watchdog host without section", toml: `[[watchdog]]\nvm = "vcsa"\nhosts = ["esx9"]\n`, line: 3, path: "watchdog[0].hosts", message: /no \[esxi\.esx9\] section/ },
  {
    name: "claim_ttl_s too short for a fence and a power-on",
    toml: `[esxi.e1]\nurl = "https://e1/sdk"\nusername = "root"\npassword = "x"\ninsecure = true\nbmc = { address = "192.0.2.1", username = "a", password = "b" }\n\n[[watchdog]]\nvm = "vcsa"\nhosts = ["e1"]\nfence_timeout_s = 60\nclaim_ttl_s = 100\n`,
    line: 12,
    path: "watchdog[0].claim_ttl_s",
    message: /must be at least fence_timeout_s \+ 70 \(130\)/,
  },
  {
    name: "bmc.guid that is not a GUID",
    toml: `[esxi.e1]\nurl = "https://e1/sdk"\nusername = "root"\npassword = "x"\ninsecure = true\nbmc = { address = "192.0.2.1", username = "a", password = "b", guid = "esx01" }\n`,
    line: 6,
    path: "esxi.e1.bmc.guid",
    message: /a GUID like "4c4c4544-0042-3510-8052-b2c04f4e3432", got "esx01"/,
  },
  { name: "slp without profile or file", toml: `[[slp]]\nhost = "esx.example"\n`, line: 1, path: "slp[0]", message: /profile = "lsi-msm" or attributes_file/ },
  { name: "missing required key", toml: `${vcenter}\n[[bmc]]\nvm = "a"\nport = 7000\npassword = "env:BMC_PASSWORD"\n`, line: 6, path: "bmc[0].username", message: /missing required key "username"/ },
  { name: "SLP and BMC on one UDP port", toml: `${vcenter}${bmc()}\n[[slp]]\nhost = "esx.example"\nprofile = "lsi-msm"\nport = 6230\n`, line: 15, path: "slp[0].port", message: /UDP port 6230 is also bmc\[0\]'s/ },
  { name: "Redfish-only machine without [redfish]", toml: `${vcenter}\n[[bmc]]\nvm = "a"\nipmi = false\n`, line: 8, path: "bmc[0].ipmi", message: /needs a \[redfish\] section/ },
  { name: "bad enum", toml: `[daemon]\nlog_level = "loud"\n`, line: 2, path: "daemon.log_level", message: /one of "debug", "info", "warn", "error"/ },
  { name: "IPMI 1.5 password too long", toml: `${vcenter}${bmc("ipmi15 = true\n")}`.replace("env:BMC_PASSWORD", "seventeen-bytes-x"), line: 10, path: "bmc[0].password", message: /IPMI 1\.5 \(ipmi15 = true\) passwords are at most 16 bytes \(this one has 17\)/ },
  { name: "secret of the wrong type", toml: vcenter.replace('"env:VC_PASSWORD"', "12345678"), line: 4, path: "vcenter.lab.password", message: /the value itself, got a number\n(?!.*12345678)/s },
  // Both passed config check and then failed at start: metrics with an unclear "options.port" error.
  { name: "metrics_listen port out of range", toml: `[daemon]\nmetrics_listen = "127.0.0.1:99999"\n`, line: 2, path: "daemon.metrics_listen", message: /port 99999 is out of range 1\.\.65535/ },
  { name: "redfish listen port 0", toml: `[redfish]\nlisten = "[::1]:0"\nusername = "a"\npassword = "x"\n`, line: 2, path: "redfish.listen", message: /port 0 is out of range 1\.\.65535/ },
  // A name passed config check and failed only when serve bound it; names are not looked up: an IP or localhost.
  { name: "redfish listen on a name", toml: `[redfish]\nlisten = "no-such-host.invalid:8000"\nusername = "a"\npassword = "x"\n`, line: 2, path: "redfish.listen", message: /expected an IP address to listen on .* got "no-such-host\.invalid:8000": names are not looked up\n1\| \[redfish\]\n2\| listen = "no-such-host\.invalid:8000"\n \|          \^/ },
  { name: "metrics_listen on a name", toml: `[daemon]\nmetrics_listen = "metrics.example:9623"\n`, line: 2, path: "daemon.metrics_listen", message: /expected an IP address to listen on .* got "metrics\.example:9623"/ },
  { name: "console listen on a name", toml: `[console]\nlisten = "esxkit.example.com"\n`, line: 2, path: "console.listen", message: /expected an IP address to listen on .* got "esxkit\.example\.com": names are not looked up/ },
  { name: "console listen port out of range", toml: `[console]\nlisten = "0.0.0.0:99999"\n`, line: 2, path: "console.listen", message: /port 99999 is out of range 1\.\.65535/ },
  { name: "redfish listen on an IPv4 look-alike", toml: `[redfish]\nlisten = "300.1.1.1:8443"\nusername = "a"\npassword = "x"\n`, line: 2, path: "redfish.listen", message: /expected an IP address to listen on/ },
  { name: "suite 0 without opt-in", toml: `${vcenter}${bmc("cipher_suites = [0, 3]\n")}`, line: 11, path: "bmc[0].cipher_suites", message: /allow_insecure_auth/ },
];

describe("broken configs", () => {
  test.each(cases)("$name", ({ name, toml, line, path, message }) => {
    const file = join(dir, `${name.replace(/\W+/g, "-")}.toml`);
    const match = configProblem(file, toml, message, env);
    if (line !== undefined) expect(match?.line).toBe(line);
    if (path !== undefined) expect(match?.keyPath).toBe(path);
    if (match?.line) expect(match.message.startsWith(`${file}:${match.line}:`)).toBe(true);
  });
});

test.each(["0.0.0.0:8443", "[::]:8443", "[::1]:8443", "127.0.0.1:8443", "localhost:8443"])("redfish listen and metrics_listen %s are valid", (listen) => {
  const c = parseConfig(`[daemon]\nmetrics_listen = "${listen}"\n\n[redfish]\nlisten = "${listen}"\nusername = "a"\npassword = "x"\n`, join(dir, "listen.toml"), { env });
  expect([c.redfish?.listen, c.daemon.metrics_listen]).toEqual([listen, listen]);
});

test("vm_probe is a peer, not a listener: a name is valid (resolved when the probe runs)", () => {
  const toml = `[esxi.e1]\nurl = "https://e1/sdk"\nusername = "root"\npassword = "x"\ninsecure = true\nbmc = { address = "192.0.2.1", username = "a", password = "b" }\n\n[[watchdog]]\nvm = "vcsa"\nhosts = ["e1"]\nvm_probe = "vcsa.example.local:443"\n`;
  expect(parseConfig(toml, join(dir, "probe.toml"), { env }).watchdog[0]?.vm_probe).toBe("vcsa.example.local:443");
});

test("a malformed listen is one problem, not three (form, port and host judged apart)", () => {
  let err: ConfigError | undefined;
  try {
    parseConfig(`[redfish]\nlisten = "0.0.0.0:x"\nusername = "a"\npassword = "x"\n`, join(dir, "malformed.toml"), { env });
  } catch (e) {
    err = e as ConfigError;
  }
  expect(err?.all.map((e) => e.detail)).toEqual(['expected "host:port" (IPv6 in brackets), got "0.0.0.0:x"']);
});

test("an inline secret on the line of a syntax error is masked in the message", () => {
  let err: ConfigError | undefined;
  try {
    parseConfig(`${vcenter}[[bmc]]\nvm = "a"\nport = 7000\nusername = "u"\npassword = "BrandNewTopSecret" x\n`, "leak.toml", { env });
  } catch (e) {
    err = e as ConfigError;
  }
  expect(err?.message).toContain("TOML syntax");
  expect(err?.message).toContain('password = "***"');
  expect(err?.message).not.toContain("BrandNewTopSecret");
  // References are not secrets and stay visible.
  expect(err?.message).not.toContain("env:VC_PASSWORD\"***");
});

describe("valid configs", () => {
  test("the documented example validates when its secrets exist", () => {
    const creds = mkdtempSync(join(dir, "creds-"));
    writeFileSync(join(creds, "esx01"), "root-pass-1\n");
    writeFileSync(join(creds, "esx02"), "root-pass-2\n");
    const c = loadConfig(join(import.meta.dir, "../../config.toml"), {
      env: { ...env, BMC01: "b1-secret", BMC02: "b2-secret", CREDENTIALS_DIRECTORY: creds },
    });
    expect(c.bmc).toHaveLength(1);
    expect(c.bmc[0]?.vm).toEqual({ by: "name", value: "lab-vesxi01" });
    expect(c.bmc[0]?.password).toBe("bmc-secret-1");
    expect(c.esxi.esx01?.password).toBe("root-pass-1");
    expect(c.esxi.esx01?.bmc?.port).toBe(623);
    expect(c.esxi.esx02?.bmc?.cipher_suite).toBe(17);
    expect(c.vcenter.lab?.tls.mode).toBe("thumbprint");
    expect(c.slp[0]?.urls).toEqual(["service:wbem:https://esxi-main.example.jp:5989"]);
    expect(c.watchdog[0]?.hosts).toEqual(["esx01", "esx02"]);
    expect(c.redfish).toMatchObject({ listen: "0.0.0.0:8443", username: "admin", password: "rf-secret", session_timeout_s: 1800, max_sessions: 64, media_wait_s: 1800 });
    expect(c.bmc[0]).toMatchObject({ ipmi: true, redfish: true });
    expect(c.console).toMatchObject({ listen: "0.0.0.0:13370", proxy_uri: "telnet://esxkit.example.local:13370", log_max_bytes: 1_048_576, log_files: 3, ring_bytes: 65_536, max_connections: 256 });
    expect(c.bmc[0]?.serial).toBe(true);
  });

  test("a Redfish-only machine needs no IPMI port or credentials", () => {
    const c = parseConfig(`${vcenter}\n[redfish]\nusername = "admin"\npassword = "env:BMC_PASSWORD"\n\n[[bmc]]\nvm = "vm1"\nipmi = false\n`, join(dir, "rf.toml"), { env });
    expect(c.bmc[0]).toMatchObject({ ipmi: false, redfish: true, port: 0 });
  });

  test("defaults, a single vcenter is implied, thumbprints are normalised", () => {
    const c = parseConfig(`${vcenter}thumbprint = "${"ab".repeat(20)}"\n${bmc()}`, join(dir, "x.toml"), { env });
    expect(c.bmc[0]).toMatchObject({ vcenter: "lab", address: "::", cipher_suites: [17, 3], ipmi15: false, max_sessions: 16, name: "vm1" });
    expect(c.vcenter.lab?.tls).toEqual({ mode: "thumbprint", thumbprint: `${"AB:".repeat(19)}AB` });
    expect(c.daemon.log_level).toBe("info");
  });

  test("inline secrets in a group-readable file produce a warning naming the keys, not the values", () => {
    const file = join(dir, "inline.toml");
    writeFileSync(file, `${vcenter.replace("env:VC_PASSWORD", "hunter2-inline")}`);
    chmodSync(file, 0o644);
    const c = loadConfig(file, { env });
    expect(c.warnings.join("\n")).toContain("vcenter.lab.password");
    expect(c.warnings.join("\n")).not.toContain("hunter2-inline");
    chmodSync(file, 0o600);
    expect(loadConfig(file, { env }).warnings).toEqual([]);
  });

  test("all problems are reported together, in file order", () => {
    let err: ConfigError | undefined;
    try {
      parseConfig(`${vcenter}${bmc('prot = 1\nmac = "zz"\n', '"x"')}`, "multi.toml", { env });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.all.length).toBe(3);
    const lines = err?.all.map((e) => e.line ?? 0) ?? [];
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });
});

test.each([
  ["https://vcsa.example/sdk", "https://vcsa.example/sdk"],
  ["https://vcsa.example", "https://vcsa.example/sdk"],
  ["https://vcsa.example:8443/", "https://vcsa.example:8443/sdk"],
])("endpoint url %s is used as %s", (written, used) => {
  const c = parseConfig(vcenter.replace("https://vcsa.example/sdk", written), "u.toml", { env });
  expect(c.vcenter.lab?.url).toBe(used);
});
