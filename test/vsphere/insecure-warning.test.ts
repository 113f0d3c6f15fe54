// insecure = true is "logged as a warning at start" (config.toml): once per endpoint, not on
// every reconnect. The watchdog reconnects to a down host every few seconds, and each attempt
// used to repeat the warning for as long as the host stayed down.
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log/logger.ts";
import { VimClient } from "../../src/vsphere/client.ts";
import { closedPort } from "../support/vsphere/tls-server.ts";

test("repeated connects to one insecure endpoint warn once; another endpoint gets its own warning", async () => {
  const lines: string[] = [];
  const logger = createLogger({ format: "json", write: (l) => lines.push(l) });
  const port = await closedPort();
  const endpoint = (name: string) => ({ name, url: `https://127.0.0.1:${port}/sdk`, username: "root", password: "p", tls: { mode: "insecure" as const }, timeout_ms: 500 });
  for (const name of ["esx-a", "esx-a", "esx-a", "esx-b"]) {
    expect(await VimClient.connect(endpoint(name), { logger }).then(() => "connected", (e) => (e as { code?: string }).code)).toBe("ESX_CONNECT");
  }
  const warned = lines.filter((l) => l.includes("TLS certificate verification is disabled")).map((l) => (JSON.parse(l) as { endpoint: string }).endpoint);
  expect(warned).toEqual(["esx-a", "esx-b"]);
});
