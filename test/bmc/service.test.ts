// The BMC service itself: addresses (IPv4, IPv6, dual-stack, a host without IPv6), status,
// metrics, in-place updates, stable identity, privilege limits, and bounded answers while
// the action behind a command is slow or vCenter does not answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { MemoryBackend } from "../../src/bmc/memory-backend.ts";
import { createBmcService } from "../../src/bmc/service.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { metrics } from "../../src/log/metrics.ts";
import { type MachineLab, startLab } from "../support/bmc/backends.ts";
import { expectFailure, ipmitool, ok, run } from "../support/bmc/clients.ts";
import { BMC_PASSWORD, bmcConfig, startBmc } from "../support/bmc/service.ts";
import { waitFor } from "../support/bmc/vsphere.ts";

const BUN = process.execPath;

describe("addresses", () => {
  test.each([
    ["IPv4 127.0.0.1", "127.0.0.1", ["127.0.0.1"]],
    ["IPv6 ::1", "::1", ["::1"]],
    ["dual-stack ::", "::", ["127.0.0.1", "::1"]],
  ])("%s", async (_n, address, reachAt) => {
    const bmc = await startBmc(new MemoryBackend({ power: "on" }), { address });
    try {
      for (const host of reachAt) {
        const r = await run("ipmitool", ["-I", "lanplus", "-H", host, "-p", String(bmc.port), "-U", "admin", "-P", BMC_PASSWORD, "chassis", "power", "status"]);
        expect(ok(r, `ipmitool -H ${host}`)).toContain("Chassis Power is on");
      }
    } finally {
      await bmc.stop();
    }
  });

  test("a BMC on '::' comes up on a host without IPv6 (network namespace, IPv6 disabled)", async () => {
    const script = [
      "ip link set lo up",
      "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
      `exec ${BUN} ${resolve(import.meta.dir, "../support/bmc/no-ipv6-probe.ts")}`,
    ].join(" && ");
    const r = await run("unshare", ["-n", "sh", "-c", script], 60_000);
    const line = ok(r, "no-IPv6 probe").trim().split("\n").pop() ?? "";
    const result = JSON.parse(line);
    // Either the IPv6 socket still takes IPv4 (disable_ipv6) or the bind fell back to 0.0.0.0.
    expect(["IPv4", "IPv6"]).toContain(result.bound.family);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Chassis Power is on");
  });

  test("a port in use is reported, not ignored", async () => {
    const first = await startBmc(new MemoryBackend());
    try {
      const second = createBmcService(bmcConfig({ port: first.port }), { backend: new MemoryBackend(), logger: silentLogger });
      const err = await second.start().then(() => undefined, (e: unknown) => e as { code?: string; errno?: string; message: string });
      expect(err).toMatchObject({ code: "ESX_BIND", errno: "EADDRINUSE" });
      expect(err?.message).toContain(`127.0.0.1:${first.port}/udp in use`);
    } finally {
      await first.stop();
    }
  });
});

describe("status, metrics, identity, updates", () => {
  test("status() names the BMC, its VM, address, power state, last command and sessions", async () => {
    const bmc = await startBmc(new MemoryBackend({ power: "on", name: "vm-a" }), { name: "bmc-a" });
    try {
      ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status");
      const s = bmc.service.status();
      expect(s).toMatchObject({ name: "bmc-a", vm: "memory:vm-a", address: "127.0.0.1", port: bmc.port, listening: true, powerState: "on" });
      expect(s.lastCommand).toMatchObject({ name: "get_chassis_status", cc: 0, result: "ok", peer: "127.0.0.1" });
      expect(s.sessions).toBeGreaterThanOrEqual(0);
    } finally {
      await bmc.stop();
    }
    expect(bmc.service.status().listening).toBe(false);
  });

  test("requests are counted by command and result; sessions are a gauge per BMC", async () => {
    const bmc = await startBmc(new MemoryBackend({ power: "on" }), { name: "bmc-metrics" });
    const counter = metrics.counter("esxkit_ipmi_requests_total", "");
    const before = counter.get({ command: "get_chassis_status", result: "ok" });
    const beforeC1 = counter.get({ command: "0x0a_0x40", result: "0xc1" });
    try {
      ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status");
      await ipmitool(bmc.port, "lanplus", [], ["raw", "0x0a", "0x40"]);
      expect(counter.get({ command: "get_chassis_status", result: "ok" }) - before).toBe(1);
      expect(counter.get({ command: "0x0a_0x40", result: "0xc1" }) - beforeC1).toBe(1);
      expect(metrics.render()).toMatch(/esxkit_ipmi_sessions\{bmc="bmc-metrics"\} \d+/);
    } finally {
      await bmc.stop();
    }
    expect(metrics.render()).not.toContain('esxkit_ipmi_sessions{bmc="bmc-metrics"}');
  });

  test("Device GUID and MAC are the same after a restart, and differ between BMCs", async () => {
    const mk = (name: string, value: string) =>
      createBmcService(bmcConfig({ name, vm: { by: "name", value } }), { backend: new MemoryBackend(), logger: silentLogger }).identity();
    expect(mk("a", "vm1")).toEqual(mk("a", "vm1"));
    expect(mk("a", "vm1").guidText).not.toBe(mk("b", "vm2").guidText);
    expect(mk("a", "vm1").macText).not.toBe(mk("b", "vm2").macText);
    // The MAC follows the VM (what vCenter DPM registered), not the BMC's name.
    expect(mk("renamed", "vm1").macText).toBe(mk("a", "vm1").macText);
  });

  test("update(): a new password applies in place; a new address or port needs a new service", async () => {
    const bmc = await startBmc(new MemoryBackend({ power: "on" }));
    try {
      expect(bmc.service.update(bmcConfig({ password: "n3w-Passw0rd" }))).toBe(true);
      expectFailure(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), /RAKP|unauthorized|password|Unable to establish/i);
      const r = await run("ipmitool", ["-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmc.port), "-U", "admin", "-P", "n3w-Passw0rd", "chassis", "power", "status"]);
      expect(ok(r, "new password")).toContain("Chassis Power is on");
      expect(bmc.service.update(bmcConfig({ password: "n3w-Passw0rd", port: 1 }))).toBe(false);
    } finally {
      await bmc.stop();
    }
  });

  test.each([
    // [privilege, command, allowed]
    ["user", ["chassis", "power", "status"], true],
    ["user", ["chassis", "power", "on"], false],
    ["operator", ["chassis", "power", "on"], true],
    ["operator", ["raw", "0x0c", "0x01", "0x01", "0x00", "0x00"], false], // Set LAN Configuration: administrator
  ] as const)("a BMC user limited to %s: %p allowed = %p", async (privilege, args, allowed) => {
    const bmc = await startBmc(new MemoryBackend({ power: "on" }), { privilege });
    try {
      const level = privilege === "user" ? "USER" : "OPERATOR";
      const r = await ipmitool(bmc.port, "lanplus", ["-L", level], [...args]);
      if (allowed) ok(r, args.join(" "));
      else expectFailure(r, /privilege|0xd4/i);
      const access = ok(await ipmitool(bmc.port, "lanplus", ["-L", level], ["raw", "0x06", "0x41", "0x01", "0x80"]), "channel access");
      expect(access.trim()).toBe(`22 0${privilege === "user" ? 2 : 3}`);
    } finally {
      await bmc.stop();
    }
  });
});

describe("bounded answers", () => {
  test("a slow power action does not hold up other commands", async () => {
    const backend = new MemoryBackend({ power: "off", actionDelayMs: 3000 });
    const bmc = await startBmc(backend, {}, 200);
    try {
      expect(ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "on"]), "on")).toContain("Up/On");
      // Answered while the power-on is still running.
      expect(ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status")).toContain("Chassis Power is off");
      await bmc.service.drain();
      expect(ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status")).toContain("Chassis Power is on");
    } finally {
      await bmc.stop();
    }
  });

  describe("vCenter stops answering (simulator frozen with SIGSTOP)", () => {
    let lab: MachineLab;
    beforeAll(async () => {
      lab = await startLab("vsphere", 2);
    });
    afterAll(() => lab.cleanup());

    test("status, power and boot commands answer C3h once the cache is older than max_staleness, and recover", async () => {
      const m = await lab.machine({ power: "on", over: { maxStalenessMs: 2000, resolveTimeoutMs: 1000, taskTimeoutMs: 2000 } });
      const bmc = await startBmc(m.backend, { max_staleness_s: 2 });
      try {
        ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status before");
        lab.freeze();
        await waitFor(() => !m.backend.powerState().fresh, "stale cache", 30_000);
        // Get Chassis Status, Chassis Control (off), Get and Set System Boot Options (flags).
        for (const raw of [["0x00", "0x01"], ["0x00", "0x02", "0x00"], ["0x00", "0x09", "0x05", "0x00", "0x00"], ["0x00", "0x08", "0x05", "0x80", "0x04", "0x00", "0x00", "0x00"]]) {
          expectFailure(await ipmitool(bmc.port, "lanplus", [], ["raw", ...raw]), /rsp=0xc3/);
        }
        expectFailure(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), /Get Chassis Power Status failed: Timeout/);
      } finally {
        lab.thaw();
      }
      await waitFor(() => m.backend.powerState().fresh, "fresh again", 30_000);
      expect(ok(await ipmitool(bmc.port, "lanplus", [], ["chassis", "power", "status"]), "status after")).toContain("Chassis Power is on");
      await bmc.stop();
    }, 120_000);
  });
});
