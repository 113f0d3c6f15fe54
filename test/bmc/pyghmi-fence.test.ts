// pyghmi's client (python3-pyghmi) and fence_ipmilan (fence-agents) against esxkit's BMC,
// in front of the in-memory machine and of the vSphere simulator.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { metrics } from "../../src/log/metrics.ts";
import { BACKEND_KINDS, type Machine, type MachineLab, startLab } from "../support/bmc/backends.ts";
import { fenceIpmilan, ok, pyghmi } from "../support/bmc/clients.ts";
import { type RunningBmc, startBmc } from "../support/bmc/service.ts";

const controls = () => metrics.counter("esxkit_ipmi_requests_total", "").get({ command: "chassis_control", result: "ok" });

describe.each(BACKEND_KINDS)("%s backend", (kind) => {
  let lab: MachineLab;
  beforeAll(async () => {
    lab = await startLab(kind, 4);
  });
  afterAll(() => lab.cleanup());

  describe("pyghmi Command", () => {
    let m: Machine;
    let bmc: RunningBmc;
    beforeAll(async () => {
      m = await lab.machine({ power: "on" });
      bmc = await startBmc(m.backend);
    });
    afterAll(() => bmc.stop());
    const py = async (script: string) => JSON.parse(ok(await pyghmi(bmc.port, `print(json.dumps(${script}))`), script).trim());

    test("get_power", async () => {
      await m.setPower("on");
      expect(await py("ipmicmd.get_power()")).toEqual({ powerstate: "on" });
      await m.setPower("off");
      expect(await py("ipmicmd.get_power()")).toEqual({ powerstate: "off" });
    });

    test.each([
      // [set_power argument, state before, result, state after, boots added]
      ["on", "off", { powerstate: "on" }, "on", 1],
      ["off", "on", { powerstate: "off" }, "off", 0],
      ["reset", "on", { pendingpowerstate: "reset" }, "on", 1],
      ["boot", "on", { pendingpowerstate: "reset" }, "on", 1],
      ["boot", "off", { powerstate: "on" }, "on", 1],
    ] as const)("set_power(%p, wait=True) with the VM %s", async (state, before, result, after, boots) => {
      await m.setPower(before);
      const bootsBefore = await m.bootCount();
      expect(await py(`ipmicmd.set_power(${JSON.stringify(state)}, wait=True)`)).toEqual(result);
      await bmc.service.drain();
      await m.settled(after);
      expect((await m.bootCount()) - bootsBefore).toBe(boots);
    });

    test.each([
      // [set_bootdev arguments, power, get_bootdev result, next boot on the VM]
      ["'network'", "on", { bootdev: "network", persistent: false, uefimode: false }, "pxe"],
      ["'hd', persist=True", "on", { bootdev: "hd", persistent: true, uefimode: false }, "disk"],
      ["'optical', persist=True", "on", { bootdev: "optical", persistent: true, uefimode: false }, "cdrom"],
      ["'setup'", "on", { bootdev: "setup", persistent: false, uefimode: false }, "bios"],
      ["'network', persist=True, uefiboot=True", "off", { bootdev: "network", persistent: true, uefimode: true }, "pxe"],
    ] as const)("set_bootdev(%s) with the VM %s, then get_bootdev", async (args, power, expected, next) => {
      await m.setPower(power);
      await m.setFirmware("bios");
      await m.resetBoot();
      await py(`ipmicmd.set_bootdev(${args})`);
      expect(await py("ipmicmd.get_bootdev()")).toEqual(expected);
      expect(await m.nextBoot()).toBe(next);
    });
  });

  describe("fence_ipmilan --lanplus", () => {
    let m: Machine;
    let bmc: RunningBmc;
    beforeAll(async () => {
      m = await lab.machine({ power: "on" });
      bmc = await startBmc(m.backend);
    });
    afterAll(() => bmc.stop());

    test.each([
      // [arguments, state before, output, state after, boots added, chassis control commands]
      [["-o", "status"], "on", "Status: ON", "on", 0, 0],
      [["-o", "status"], "off", "Status: OFF", "off", 0, 0], // exit 2 = "off" for fence agents
      [["-o", "off"], "on", "Success: Powered OFF", "off", 0, 1],
      [["-o", "on"], "off", "Success: Powered ON", "on", 1, 1],
      [["-o", "reboot"], "on", "Success: Rebooted", "on", 1, 2],
      [["-o", "reboot", "--method=cycle"], "on", "Success: Rebooted", "on", 1, 1],
    ] as const)("%p with the VM %s", async (args, before, output, after, boots, commands) => {
      await m.setPower(before);
      const bootsBefore = await m.bootCount();
      const controlsBefore = controls();
      const r = await fenceIpmilan(bmc.port, [...args]);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(output === "Status: OFF" ? 2 : 0);
      expect(r.stdout).toContain(output);
      await bmc.service.drain();
      await m.settled(after);
      expect((await m.bootCount()) - bootsBefore).toBe(boots);
      expect(controls() - controlsBefore).toBe(commands);
    });
  });
});
