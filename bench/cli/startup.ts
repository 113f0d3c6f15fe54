// On demand: how fast the compiled CLI starts, against a hello-world program compiled by the
// same Bun with the same flags, in the same run (the fair floor: the runtime's own start).
//   node_modules/.bin/bun run build && node_modules/.bin/bun bench/cli/startup.ts [rounds=40]
//
// Rows (each an interleaved round, so load on the shared machine hits every row alike):
//   hello                          the baseline binary
//   esxkit version                 no config, no network
//   esxkit ipmi … power status     a whole RMCP+ session (-C 3) against OpenIPMI's ipmi_sim
//   esxkit vm power … (start)      config + vSphere client loaded, then a refused connection:
//                                  everything the command loads before its first byte
//   esxkit vm power … status       the whole command against the vCenter simulator (login,
//                                  find, read, logout): shown for scale, not a start figure
// Reported: median wall time, CPU time (user + system) and instructions per row, and ratios to hello.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, startIpmiSim } from "../../test/support/ipmi/peers.ts";
import { startVcsim } from "../../test/support/vcsim.ts";

const rounds = Number(process.argv[2] ?? 40);
const root = join(import.meta.dir, "../..");
const bun = join(root, "node_modules/.bin/bun");
const esxkit = join(root, "dist/esxkit");
const dir = mkdtempSync(join(tmpdir(), "esxkit-bench-startup-"));

// The same flags as package.json's build script.
const FLAGS = ["--compile", "--minify", "--sourcemap", "--bytecode", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];
// Two hello worlds: console.log (the runtime's floor) and process.stdout.write, which also
// builds Node's stream machinery, the same that undici needs (see the vm power rows).
for (const [name, code] of [["hello", 'console.log("hello");\n'], ["hello-stream", 'process.stdout.write("hello\\n");\n']] as const) {
  writeFileSync(join(dir, `${name}.ts`), code);
  const built = Bun.spawnSync([bun, "build", join(dir, `${name}.ts`), ...FLAGS, "--outfile", join(dir, name)], { cwd: dir });
  if (built.exitCode !== 0) throw new Error(`${name} build failed: ${built.stderr}`);
}
if (!(await Bun.file(esxkit).exists())) throw new Error("dist/esxkit missing: run `bun run build` first");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const sim = await startVcsim();
const bmc = await startIpmiSim();
try {
  const env = { PATH: process.env.PATH ?? "", VC_PW: sim.password, BMC_PW: ADMIN.password };
  const endpoint = (url: string) =>
    `[vcenter.lab]\nurl = "${url}"\nusername = "${sim.username}"\npassword = "env:VC_PW"\nthumbprint = "${sim.thumbprintSha256}"\n`;
  writeFileSync(join(dir, "sim.toml"), endpoint(sim.url));
  // Port 9 on loopback: nothing listens, the kernel refuses at once.
  writeFileSync(join(dir, "refused.toml"), endpoint("https://127.0.0.1:9/sdk"));

  const rows: Array<{ name: string; argv: string[]; ok: (code: number) => boolean }> = [
    { name: "hello: console.log (baseline)", argv: [join(dir, "hello")], ok: (c) => c === 0 },
    { name: "hello: process.stdout.write", argv: [join(dir, "hello-stream")], ok: (c) => c === 0 },
    { name: "esxkit version", argv: [esxkit, "version"], ok: (c) => c === 0 },
    {
      name: "esxkit ipmi … -C 3 power status (ipmi_sim)",
      argv: [esxkit, "ipmi", `127.0.0.1:${bmc.port}`, "-U", ADMIN.name, "-P", "env:BMC_PW", "-C", "3", "power", "status"],
      ok: (c) => c === 0,
    },
    { name: "esxkit vm power … status (start: refused)", argv: [esxkit, "vm", "power", "-c", join(dir, "refused.toml"), "DC0_H0_VM0", "status"], ok: (c) => c === 1 },
    { name: "esxkit vm power … status (simulator)", argv: [esxkit, "vm", "power", "-c", join(dir, "sim.toml"), "DC0_H0_VM0", "status"], ok: (c) => c === 0 },
  ];
  const wall = rows.map(() => [] as number[]);
  const cpu = rows.map(() => [] as number[]);
  for (let r = -3; r < rounds; r++) {
    rows.forEach((row, i) => {
      const t0 = performance.now();
      const p = Bun.spawnSync(row.argv, { env, stdout: "pipe", stderr: "pipe" });
      const ms = performance.now() - t0;
      if (!row.ok(p.exitCode ?? -1)) throw new Error(`${row.name}: exit ${p.exitCode}: ${p.stderr.toString()}`);
      if (r < 0) return; // warm-up rounds: page cache, simulator JIT
      wall[i]?.push(ms);
      cpu[i]?.push(Number(p.resourceUsage.cpuTime.total) / 1000);
    });
  }
  // Instructions executed (callgrind): far steadier than wall time on a busy machine, but not
  // constant: the runtime's JIT and GC threads, and when the event loop wakes, vary the count by
  // up to ±20% on the rows that touch the network. So: the median of five runs.
  const instructions = rows.map((row) =>
    median(
      Array.from({ length: 5 }, () => {
        const p = Bun.spawnSync(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", ...row.argv], { env, stdout: "pipe", stderr: "pipe" });
        const m = /Collected : (\d+)/.exec(p.stderr.toString());
        return m ? Number(m[1]) : Number.NaN;
      }),
    ),
  );
  const base = { wall: median(wall[0] ?? []), cpu: median(cpu[0] ?? []), ir: instructions[0] ?? Number.NaN };
  console.log(`rounds: ${rounds} (interleaved), bun ${Bun.version}`);
  console.log("row | wall median | ratio | cpu median | ratio | instructions | ratio");
  rows.forEach((row, i) => {
    const w = median(wall[i] ?? []);
    const c = median(cpu[i] ?? []);
    const ir = instructions[i] ?? Number.NaN;
    console.log(
      `${row.name} | ${w.toFixed(1)} ms | ${(w / base.wall).toFixed(2)} | ${c.toFixed(1)} ms | ${(c / base.cpu).toFixed(2)} | ${(ir / 1e6).toFixed(1)} M | ${(ir / base.ir).toFixed(2)}`,
    );
  });
  console.log("target: version, ipmi and vm power (start) within 1.3x hello");
} finally {
  await bmc.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
