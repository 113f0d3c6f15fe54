// Secret-looking keys: which keys count, and how their values are hidden in config lines.
import { describe, expect, test } from "bun:test";
import { isSecretKey, maskSecretLines } from "../../src/config/mask.ts";

describe("isSecretKey", () => {
  test.each(["password", "pasword", "passwd", "pwd", "Password", "pass", "psswd", "client_secret", "secret", "api_token", "token", "bmc_password", "api-key"])("%s is a secret", (k) => {
    expect(isSecretKey(k)).toBe(true);
  });
  // Every key the schema knows except `password` must stay visible, or errors lose their context.
  test.each(["username", "url", "port", "address", "thumbprint", "insecure", "privilege", "cipher_suites", "max_sessions", "hosts", "vm_probe", "webhook", "command", "allow", "attributes", "state_dir", "control_socket"])("%s is not", (k) => {
    expect(isSecretKey(k)).toBe(false);
  });
});

const cases: Array<[string, string[], string[]]> = [
  ["basic string", ['pasword = "s3cr3t-a"'], ['pasword = "***"']],
  ["literal string", ["passwd = 's3cr3t-b'"], ['passwd = "***"']],
  ["bare number", ["password = 12345678"], ['password = "***"']],
  ["unterminated string", ['password = "s3cr3t-c'], ['password = "***"']],
  ["escaped quote", ['password = "a\\"b-s3cr3t" # note'], ['password = "***" # note']],
  ["quoted key", ['"client_secret" = "s3cr3t-d"'], ['"client_secret" = "***"']],
  ["dotted key", ['bmc.pwd = "s3cr3t-e"'], ['bmc.pwd = "***"']],
  ["inline table", ['bmc = { address = "10.0.0.9", password = "s3cr3t-f", port = 623 }'], ['bmc = { address = "10.0.0.9", password = "***", port = 623 }']],
  ["two on a line", ['x = { token = "s3cr3t-g", pwd = "s3cr3t-h" }'], ['x = { token = "***", pwd = "***" }']],
  ["references stay visible", ['password = "env:VC_PASSWORD"', "token = 'credential:tok'"], ['password = "env:VC_PASSWORD"', "token = 'credential:tok'"]],
  ["multi-line string", ['api_token = """s3cr3t-i', "s3cr3t-j", '"""', 'url = "u"'], ['api_token = "***"', "********", '***', 'url = "u"']],
  ["multi-line array", ["password = [", '  "s3cr3t-k",', "]"], ['password = "***"', '  ***********', "***"]],
  ["a password in a URI, any key", ['proxy_uri = "telnet://user:s3cr3t-l@esx.example:13370"', 'url = "https://root:s3cr3t-m@vc.example/sdk"'], ['proxy_uri = "telnet://user:***@esx.example:13370"', 'url = "https://root:***@vc.example/sdk"']],
  ["a table as the value", ['password = { value = "s3cr3t-n", file = "x" }'], ['password = "***"']],
  ["nested arrays and brackets in strings", ['pwd = [["a]"], "s3cr3t-o"] # n'], ['pwd = "***" # n']],
  ["other keys untouched", ['username = "admin"', "port = 623"], ['username = "admin"', "port = 623"]],
];

test.each(cases)("masks: %s", (_name, lines, masked) => {
  const out = maskSecretLines(lines);
  expect(out).toEqual(masked);
  expect(out.join("\n")).not.toContain("s3cr3t");
});
