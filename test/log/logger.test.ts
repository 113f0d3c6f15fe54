import { afterEach, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { fstatSync } from "node:fs";
import { encodeJournalEntry, journalFieldName } from "../../src/log/journal.ts";
import { createLogger, underJournald } from "../../src/log/logger.ts";
import { clearSecretsForTest } from "../../src/log/secrets.ts";

function capture(opts: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ format: "json", journal: false, ...opts, write: (l) => lines.push(l), now: () => new Date("2026-11-21T10:00:00.000Z") });
  return { logger, lines };
}

afterEach(() => clearSecretsForTest());

describe("logger", () => {
  test("JSON lines carry time, level, subsystem, msg and fields", () => {
    const { logger, lines } = capture();
    logger.child("bmc", { bmc: "vm1" }).info("power on", { cc: 0 });
    expect(JSON.parse(lines[0] as string)).toEqual({ time: "2026-11-21T10:00:00.000Z", level: "info", subsystem: "bmc", msg: "power on", bmc: "vm1", cc: 0 });
  });

  test.each([
    ["debug", 4],
    ["info", 3],
    ["warn", 2],
    ["error", 1],
  ] as const)("level %s lets %d of 4 lines through", (level, n) => {
    const { logger, lines } = capture({ level });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines).toHaveLength(n);
  });

  test.each([
    ["debug", "<7>"],
    ["info", "<6>"],
    ["warn", "<4>"],
    ["error", "<3>"],
  ] as const)("journald priority prefix for %s is %s", (level, prefix) => {
    const { logger, lines } = capture({ level: "debug", journal: true });
    logger[level]("x");
    expect(lines[0]?.startsWith(`${prefix}{`)).toBe(true);
  });

  test.each([
    ["info", "power on", { cc: 0 }, "<6>[bmc] power on bmc=vm1 cc=0"],
    ["warn", "dropped", { reason: "rate limit", from: "192.0.2.1" }, '<4>[bmc] dropped bmc=vm1 reason="rate limit" from=192.0.2.1'],
    ["error", "reload rejected", { problems: ["a.toml:3: x\n3| y"] }, '<3>[bmc] reload rejected bmc=vm1 problems=["a.toml:3: x\\n3| y"]'],
    ["debug", "two\nlines", {}, "<7>[bmc] two\\nlines bmc=vm1"],
  ] as const)("journal format at %s: a readable MESSAGE, the level as priority, no timestamp", (level, msg, fields, line) => {
    const { logger, lines } = capture({ level: "debug", journal: true, format: "journal" });
    logger.child("bmc", { bmc: "vm1" })[level](msg, fields);
    expect(lines).toEqual([line]);
  });

  test("with journald's socket each record is one entry: MESSAGE, PRIORITY and the fields by name; a refused one goes to the stream", () => {
    const sent: Array<ReadonlyArray<readonly [string, string]>> = [];
    let accept = true;
    const { logger, lines } = capture({ level: "debug", journal: true, format: "journal", journalSink: { send: (f) => (sent.push(f), accept) } });
    logger.child("bmc", { bmc: "vm1" }).warn("power on failed", { cc: 0xc3, "vm-uuid": "4210", error: new Error("boom\nline 2") });
    expect(sent).toEqual([
      [
        ["MESSAGE", '[bmc] power on failed bmc=vm1 cc=195 vm-uuid=4210 error="boom\\nline 2"'],
        ["PRIORITY", "4"],
        ["SYSLOG_IDENTIFIER", "esxkit"],
        ["SUBSYSTEM", "bmc"],
        ["BMC", "vm1"],
        ["CC", "195"],
        ["VM_UUID", "4210"],
        ["ERROR", "boom\nline 2"],
      ],
    ]);
    expect(lines).toEqual([]);
    accept = false;
    logger.info("fallback");
    expect(lines).toEqual(["<6>fallback"]);
  });

  test("the native protocol: FIELD=value lines, and length-prefixed bytes for values with newlines", () => {
    const bytes = encodeJournalEntry([
      ["MESSAGE", "hi"],
      ["ERROR", "a\nb"],
    ]);
    expect([...bytes]).toEqual([...new TextEncoder().encode("MESSAGE=hi\nERROR\n"), 3, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode("a\nb\n")]);
    expect(["bmc", "vm-uuid", "_private", "9lives", "ü"].map(journalFieldName)).toEqual(["BMC", "VM_UUID", "PRIVATE", "LIVES", "FIELD"]);
  });

  test("journald is detected from $JOURNAL_STREAM naming stdout's own device and inode only", () => {
    const st = fstatSync(1, { bigint: true });
    expect(underJournald({ JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
    expect(underJournald({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` })).toBe(false);
    expect(underJournald({})).toBe(false);
  });

  test("pretty format is one readable line", () => {
    const { logger, lines } = capture({ format: "pretty" });
    logger.child("slp").warn("dropped request", { reason: "version", from: "192.0.2.1" });
    expect(lines[0]).toBe("10:00:00.000 WARN  [slp] dropped request reason=version from=192.0.2.1");
  });

  test("errors are logged with their code", () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error("boom"), { code: "ESX_TEST" });
    logger.error("failed", { error: err });
    expect(JSON.parse(lines[0] as string).error).toBe("boom [ESX_TEST]");
  });

  test("no secret value from the config ever reaches the log", () => {
    const secrets = { VC: 'vc-"quoted"\\secret', BMC: "bmc-pass-7781" };
    parseConfig(
      `[vcenter.lab]\nurl = "https://v/sdk"\nusername = "u"\npassword = "env:VC"\n\n[[bmc]]\nvm = "a"\nport = 7000\nusername = "admin"\npassword = "env:BMC"\n`,
      "s.toml",
      { env: secrets },
    );
    for (const format of ["json", "pretty"] as const) {
      const { logger, lines } = capture({ format });
      logger.info(`login with ${secrets.BMC}`, { password: secrets.VC, nested: { p: secrets.BMC }, list: [secrets.VC] });
      logger.error("failed", { error: new Error(`bad password ${secrets.VC}`) });
      const out = lines.join("\n");
      expect(out).not.toContain("bmc-pass-7781");
      expect(out).not.toContain("quoted");
      expect(out).toContain("***");
    }
  });
});
