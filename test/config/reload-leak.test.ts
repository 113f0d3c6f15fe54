// `serve` through the compiled binary: a SIGHUP with a config full of problems (secrets under
// misspelled keys, 4,000 bad entries) is rejected with one bounded log line that shows no
// secret, the running config stays in force, and the daemon keeps answering throughout.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, collect, esxkit, freeUdpPort, until } from "../support/config/binary.ts";
import { LEAKS, leakyConfig } from "../support/config/leaky.ts";
import { srvRqst } from "../support/slp/requests.ts";

const dir = mkdtempSync(join(tmpdir(), "esxkit-reload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));



test("a SIGHUP reload with 4,000 problems and misspelled secrets: one capped log line, no secret, still serving", async () => {
  const binary = buildBinary();
  const socket = join(dir, "control.sock");
  const port = await freeUdpPort();
  const base = `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\n\n[[slp]]\nhost = "esx-reload.example.local"\nprofile = "lsi-msm"\ninterfaces = ["127.0.0.1"]\nport = ${port}\nrate_per_source = 10000\nrate_burst = 10000\n`;
  const cfg = join(dir, "config.toml");
  writeFileSync(cfg, base, { mode: 0o600 });
  const proc = Bun.spawn([binary, "serve", "-c", cfg, "--log-format", "json"], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
  const out = collect(proc);
  try {
    await until("esxkit serving", () => out.text().includes('"esxkit serving"'));
    let bad = leakyConfig().replace("[daemon]\n", `[daemon]\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${socket}"\n`);
    for (let i = 0; i < 4000; i++) bad += `\n[[bmc]]\nvm = "v${i}"\nport = "p${i}"\nusername = "a"\npassword = "env:Y"\n`;
    writeFileSync(cfg, bad, { mode: 0o600 });
    // An SLP query every 20 ms while the reload runs: the gaps between answers show whether
    // the event loop stalled (it froze for 15 s before rendering became linear).
    const replies: number[] = [];
    const probe = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: () => void replies.push(performance.now()) } });
    const ticker = setInterval(() => probe.send(srvRqst(), port, "127.0.0.1"), 20);
    await until("the first SLP answers", () => replies.length >= 5);
    proc.kill("SIGHUP");
    const line = await until("the rejected reload", () => out.text().split("\n").find((l) => l.includes("reload rejected")));
    const seen = replies.length;
    await until("SLP answers after the reload", () => replies.length >= seen + 5);
    clearInterval(ticker);
    probe.close();
    const gaps = replies.slice(1).map((t, i) => t - (replies[i] as number));
    expect(Math.max(...gaps)).toBeLessThan(2000);
    const rec = JSON.parse(line) as { level: string; problems: string[] };
    expect(rec.level).toBe("error");
    // 20 problems in full and a count; before the cap this line was 875 KB.
    expect(rec.problems).toHaveLength(21);
    expect(rec.problems[20]).toMatch(/^… and \d+ more problems \(\d+ in all\)$/);
    expect(line.length).toBeLessThan(32 * 1024);
    expect(rec.problems.join("\n")).toContain('pasword = "***"');
    // The daemon still answers, and its status carries the (capped) reason.
    const status = esxkit(["status", "--socket", socket, "--json"]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { last_reload: { ok: boolean; error: string }; services: Array<{ kind: string }> };
    expect(s.last_reload.ok).toBe(false);
    expect(s.services.filter((x) => x.kind === "slp")).toHaveLength(1);
    const reload = esxkit(["reload", "--socket", socket]);
    expect(reload.code).toBe(1);
    for (const secret of LEAKS) {
      expect(out.text()).not.toContain(secret);
      expect(status.stdout).not.toContain(secret);
      expect(reload.stdout + reload.stderr).not.toContain(secret);
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 60_000);
