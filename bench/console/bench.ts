// Serial consoles through the shipped binary (`dist/esxkit serve` with a user's config:
// [console] and [[bmc]] serial = true, everything else at its defaults), driven from outside:
//  1. keystroke → echo through IPMI SOL, as a person at `ipmitool sol activate` sees it;
//  2. sustained VM output through SOL (ipmitool's window), no loss;
//  3. 100 vMotion handovers while counters stream both ways (VM → `esxkit console`'s
//     WebSocket, and back): bytes lost or duplicated;
//  4. resident memory with 200 VMs connected to the vSPC.
// Baseline for 1 and 2, in the same run and with the same client: OpenIPMI's C ipmi_sim with
// its SOL on a TCP serial port whose far end behaves as our fake VM does (echo upper-cased;
// "g" → N bytes). A 115200-baud line (11,520 B/s) is the other yardstick for 2.
//
// usage: bun bench/console/bench.ts [rounds=3]
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { VimClient } from "../../src/vsphere/client.ts";
import { listVms } from "../../src/vsphere/search.ts";
import { esxkitServiceUri } from "../../src/vsphere/serial-port.ts";
import { waitForPong } from "../../test/support/ipmi/peers.ts";
import { startVcsim } from "../../test/support/vcsim.ts";
import { VmEndpoint } from "../../test/support/vspc/vm-endpoint.ts";
import { BMC_USER, bmcEnv, bmcSection, vcenterSection } from "../support/bmc-config.ts";
import { startServe, type Served, waitUntil } from "../support/serve.ts";
import { freeUdpPort, median } from "../support/stats.ts";

const ROUNDS = Number(process.argv[2] ?? 3);
const LATENCY_KEYS = 200;
const STREAM_BYTES = 2 * 1024 * 1024;
const HANDOVERS = 100;
const MANY = 200;
const SOL_CLIENT = resolve(import.meta.dir, "sol_client.py");
const PATTERN = new TextEncoder().encode("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(64));

/** The fake VM's behaviour, the same for esxkit's vSPC and for ipmi_sim's TCP serial port. */
function vmBehaviour(write: (b: Uint8Array) => void, bytes: number): (input: Uint8Array) => void {
  return (input) => {
    if (input.includes(0x67 /* g */)) {
      for (let left = bytes; left > 0; left -= PATTERN.length) write(PATTERN.subarray(0, Math.min(PATTERN.length, left)));
    } else {
      write(new TextEncoder().encode(new TextDecoder().decode(input).toUpperCase()));
    }
  };
}

async function tcpFreePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

type SolResult = { p50_ms?: number; p99_ms?: number; bytes_per_s?: number; bytes_seen?: number; lost?: number; error?: string };
function solClient(args: string[], port: number): Promise<SolResult> {
  return new Promise((done, fail) => {
    const p = spawn("/usr/bin/python3", [SOL_CLIENT, ...args, "--", "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(port), "-U", BMC_USER.name, "-P", BMC_USER.password, "sol", "activate"]);
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    const t = setTimeout(() => p.kill("SIGKILL"), 180_000);
    p.on("exit", () => {
      clearTimeout(t);
      try {
        done(JSON.parse(out.trim().split("\n").pop() as string) as SolResult);
      } catch {
        fail(new Error(`sol_client: ${out}`));
      }
    });
  });
}

/** ipmi_sim with SOL on "tcp:127.0.0.1:serialPort", whose far end is a Bun TCP server playing the VM. */
async function startIpmiSimSol(): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "esxkit-bench-ipmisim-sol-"));
  mkdirSync(join(dir, "state"));
  const [port, serialPort] = [await freeUdpPort(), await tcpFreePort()];
  const vm = Bun.listen({
    hostname: "127.0.0.1",
    port: serialPort,
    socket: {
      open(s) {
        (s as unknown as { queue: Uint8Array[] }).queue = [];
      },
      data(s, d) {
        const q = (s as unknown as { queue: Uint8Array[] }).queue;
        const flush = () => {
          while (q.length) {
            const head = q[0] as Uint8Array;
            const n = s.write(head);
            if (n < head.length) {
              q[0] = head.subarray(n);
              return;
            }
            q.shift();
          }
        };
        vmBehaviour((b) => {
          q.push(b);
        }, STREAM_BYTES)(d);
        flush();
        (s as unknown as { flush: () => void }).flush = flush;
      },
      drain(s) {
        (s as unknown as { flush?: () => void }).flush?.();
      },
    },
  });
  writeFileSync(
    join(dir, "lan.conf"),
    `name "bench-sol"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 ${port}\n    priv_limit admin\n    allowed_auths_callback md5\n    allowed_auths_user md5\n    allowed_auths_operator md5\n    allowed_auths_admin md5\n    guid a123456789abcdefa123456789abcdef\n  endlan\n  sol "tcp:127.0.0.1:${serialPort}" 115200\n  user 2 true "${BMC_USER.name}" "${BMC_USER.password}" admin 10 md5\n`,
  );
  writeFileSync(join(dir, "sim.emu"), "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n");
  const child = spawn("ipmi_sim", ["-c", join(dir, "lan.conf"), "-f", join(dir, "sim.emu"), "-s", join(dir, "state"), "-n", "-d"], { stdio: "ignore" });
  await waitForPong(port, 5000, "ipmi_sim");
  return {
    port,
    async stop() {
      child.kill("SIGKILL");
      vm.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const consoleSection = (port: number) => `\n[console]\nlisten = "127.0.0.1:${port}"\nproxy_uri = "telnet://127.0.0.1:${port}"\n`;

async function status(served: Served): Promise<{ services: Array<Record<string, unknown>> }> {
  const r = await fetch("http://esxkit/v1/status", { unix: join(served.dir, "control.sock"), signal: AbortSignal.timeout(5000) } as RequestInit);
  return (await r.json()) as { services: Array<Record<string, unknown>> };
}

const sim = await startVcsim({ args: ["-vm", String(MANY / 2)] });
const vmsOf = async () => {
  const c = await VimClient.connect({ name: "sim", url: sim.url, username: sim.username, password: sim.password, tls: { mode: "thumbprint", thumbprint: sim.thumbprintSha256 }, timeout_ms: 30_000 });
  const names = (await listVms(c)).map((v) => v.name).sort();
  await c.close();
  return names;
};
const vms = await vmsOf();
const report: Record<string, unknown> = { rounds: ROUNDS, vms: vms.length };

// ---------------------------------------------------------------- 1 + 2: SOL latency and throughput
{
  const vspcPort = await tcpFreePort();
  const bmcPort = await freeUdpPort();
  const served = await startServe(vcenterSection(sim) + consoleSection(vspcPort) + bmcSection({ name: "web01", vm: vms[0] as string, address: "127.0.0.1", port: bmcPort, extra: "serial = true\n" }), bmcEnv(sim));
  await waitUntil("esxkit's vSPC", 20_000, async () => (await status(served).catch(() => ({ services: [] }))).services.some((s) => s.kind === "console" && s.listening === true));
  const vm = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: esxkitServiceUri("web01"), direction: "server", name: vms[0] as string } });
  vm.onInput(vmBehaviour((b) => vm.write(b), STREAM_BYTES));
  const base = await startIpmiSimSol();
  const rows: Record<string, { lat: SolResult[]; thr: SolResult[] }> = { esxkit: { lat: [], thr: [] }, ipmi_sim: { lat: [], thr: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, port] of [["esxkit", bmcPort], ["ipmi_sim", base.port]] as const) {
      rows[name]!.lat.push(await solClient(["latency", String(LATENCY_KEYS)], port));
      rows[name]!.thr.push(await solClient(["throughput", String(STREAM_BYTES)], port));
    }
  }
  const summary = (name: string) => {
    const x = rows[name]!;
    return {
      p50_ms: median(x.lat.map((l) => l.p50_ms ?? Number.NaN)),
      p99_ms: median(x.lat.map((l) => l.p99_ms ?? Number.NaN)),
      lost_keys: x.lat.reduce((a, l) => a + (l.lost ?? 0), 0),
      bytes_per_s: median(x.thr.map((t) => t.bytes_per_s ?? 0)),
      short_streams: x.thr.filter((t) => (t.bytes_seen ?? 0) < STREAM_BYTES).length,
      runs: x,
    };
  };
  const e = summary("esxkit");
  const b = summary("ipmi_sim");
  report.sol = {
    esxkit: { ...e, runs: undefined },
    ipmi_sim: { ...b, runs: undefined },
    latency_p50_ratio: e.p50_ms / b.p50_ms,
    latency_p99_ratio: e.p99_ms / b.p99_ms,
    throughput_ratio: e.bytes_per_s / b.bytes_per_s,
    throughput_vs_115200_baud: e.bytes_per_s / 11_520,
  };
  vm.close();
  await base.stop();

  // ---------------------------------------------------------------- 3: vMotion handovers
  const host = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: esxkitServiceUri("web01"), direction: "server", name: vms[0] as string } });
  const ws = new WebSocket(`ws+unix://${join(served.dir, "control.sock")}:/v1/console/web01`);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = () => fail(new Error("console WebSocket did not open"));
  });
  // Each direction carries 4-byte big-endian counters; the receiver checks they run 0, 1, 2 … .
  const check = () => {
    let buf = new Uint8Array(0);
    let next = 0;
    const bad = { lost: 0, duplicated: 0, count: 0 };
    return {
      bad,
      feed(bytes: Uint8Array) {
        const all = new Uint8Array(buf.length + bytes.length);
        all.set(buf);
        all.set(bytes, buf.length);
        let i = 0;
        for (; i + 4 <= all.length; i += 4) {
          const n = new DataView(all.buffer, all.byteOffset + i, 4).getUint32(0);
          if (n > next) bad.lost += n - next;
          else if (n < next) bad.duplicated++;
          next = Math.max(next, n + 1);
          bad.count++;
        }
        buf = all.slice(i);
      },
    };
  };
  const fromVm = check();
  const toVm = check();
  ws.onmessage = (ev) => fromVm.feed(new Uint8Array(ev.data as ArrayBuffer));
  host.onInput((b) => toVm.feed(b));
  let sentUp = 0;
  let sentDown = 0;
  const counter = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  };
  const pump = setInterval(() => {
    for (let i = 0; i < 20; i++) {
      host.write(counter(sentUp++));
      ws.send(counter(sentDown++));
    }
  }, 2);
  const t0 = performance.now();
  const results: Record<string, number> = {};
  for (let i = 0; i < HANDOVERS; i++) {
    const r = await host.vmotion("complete");
    results[r] = (results[r] ?? 0) + 1;
    await Bun.sleep(5);
  }
  const handoverSeconds = (performance.now() - t0) / 1000;
  clearInterval(pump);
  await waitUntil("the counters to drain", 10_000, async () => fromVm.bad.count + fromVm.bad.lost >= sentUp && toVm.bad.count + toVm.bad.lost >= sentDown);
  const vspc = (await status(served)).services.find((s) => s.kind === "console") as Record<string, unknown>;
  report.vmotion = { handovers: HANDOVERS, results, seconds: handoverSeconds, from_vm: { sent: sentUp, ...fromVm.bad }, to_vm: { sent: sentDown, ...toVm.bad }, vspc_completed: vspc.vmotionsCompleted, vspc_aborted: vspc.vmotionsAborted };
  ws.close();
  host.close();
  await served.stop();
}

// ---------------------------------------------------------------- 4: memory with 200 VMs connected
{
  const vspcPort = await tcpFreePort();
  const udpPort = await freeUdpPort();
  const names = vms.slice(0, MANY);
  const bmcs = names.map((vm, i) => bmcSection({ name: `vm${i}`, vm, address: `127.3.${i >> 8}.${(i & 0xff) + 1}`, port: udpPort, extra: "serial = true\n" })).join("");
  const served = await startServe(vcenterSection(sim) + consoleSection(vspcPort) + bmcs, bmcEnv(sim));
  await waitUntil("every BMC", 120_000, async () => (await status(served).catch(() => ({ services: [] }))).services.filter((s) => s.kind === "bmc" && s.listening === true).length === names.length);
  await Bun.sleep(3000);
  const idleKb = served.rssKb();
  const hosts: VmEndpoint[] = [];
  for (let i = 0; i < names.length; i++) {
    const h = await VmEndpoint.connect({ port: vspcPort, identity: { serviceUri: esxkitServiceUri(`vm${i}`), direction: "server", name: names[i] as string } });
    h.write(PATTERN.subarray(0, 4096));
    hosts.push(h);
  }
  await waitUntil("all consoles connected", 30_000, async () => {
    const c = (await status(served)).services.find((s) => s.kind === "console") as { links?: number } | undefined;
    return c?.links === names.length;
  });
  await Bun.sleep(3000);
  const connectedKb = served.rssKb();
  report.memory = { vms: names.length, rss_idle_mb: idleKb / 1024, rss_connected_mb: connectedKb / 1024, per_vm_kb: (connectedKb - idleKb) / names.length };
  for (const h of hosts) h.close();
  await served.stop();
}

await sim.stop();
console.log(JSON.stringify(report, null, 2));
