// A watchdog refuses to start rather than run without what makes it safe: its persisted state,
// and isolation probes that can actually run. (Under the unit's sandbox: sandbox.test.ts.)
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log/logger.ts";
import { createWatchdogService } from "../../src/watchdog/service.ts";
import { testConfig } from "../support/watchdog/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-wd-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each<[string, () => string, string[], RegExp]>([
  ["state_dir is a file, not a directory", () => {
    const f = join(dir, "not-a-dir");
    writeFileSync(f, "");
    return f;
  }, [], /ENOTDIR.*not-a-dir\/watchdog/],
  ["an isolation address that is neither an IP nor host:port", () => dir, ["gw.example"], /isolation_addresses: "gw.example" is neither an IP address \(ICMP probe\) nor "host:port"/],
])("%s", async (_name, stateDir, isolation, error) => {
  const start = async () => {
    const w = createWatchdogService(testConfig(["esx01", "esx02"], { isolation_addresses: isolation }), { esxi: {}, logger: silentLogger, stateDir: stateDir() });
    await w.start();
  };
  await expect(start()).rejects.toThrow(error);
});
