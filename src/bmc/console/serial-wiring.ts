// `serial = true`: the daemon makes the VM's esxkit serial port point at the vSPC once the VM
// is found (and again when the BMC restarts, e.g. a reload with a new proxy_uri). vSphere adds a serial port only to a powered-off VM (and may
// refuse a backing edit on a running one), so a refused change is retried when the VM is next
// seen powered off, and the log says so. A VM whose only serial ports are someone else's is
// left alone: that is reported once, never "fixed".
import { errorCode } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import { attachSerialPort } from "../../vsphere/serial-console.ts";
import type { VsphereBackend } from "../vsphere-backend.ts";

const CHECK_INTERVAL_MS = 30_000;

export interface SerialWiringStatus {
  state: "pending" | "wired" | "waiting_power_off" | "foreign_port" | "failed";
  detail?: string;
  at?: string;
}

export interface SerialWiring {
  status(): SerialWiringStatus;
  stop(): void;
}

export function startSerialWiring(backend: VsphereBackend, target: { serviceUri: string; proxyUri: string }, logger: Logger): SerialWiring {
  let status: SerialWiringStatus = { state: "pending" };
  let running = false;
  let stopped = false;
  const set = (state: SerialWiringStatus["state"], detail?: string) => {
    status = { state, detail, at: new Date().toISOString() };
  };

  const attempt = async () => {
    if (running || stopped) return;
    const power = backend.powerState({ peek: true }).state;
    // Refused once on a running VM: wait until it is off instead of asking every 30 s.
    if (status.state === "waiting_power_off" && power !== "off") return;
    running = true;
    try {
      const r = await backend.vmLink.withVm("wire the serial port", (client, vm) => attachSerialPort(client, vm, target));
      set("wired", r.plan.action === "already-done" ? "already pointed at the vSPC" : `${r.plan.action === "add" ? "added" : "updated"} ${r.port.label}`);
      if (r.plan.action !== "already-done") logger.info("VM serial port wired to esxkit's vSPC", { change: r.plan.action, port: r.port.label, proxy_uri: target.proxyUri });
    } catch (err) {
      if (stopped) return;
      if (errorCode(err) === "ESX_SERIAL_FOREIGN") {
        set("foreign_port", (err as Error).message);
        logger.warn("VM serial port not wired: the VM has serial ports esxkit did not create, and esxkit never changes those", { reason: (err as Error).message, remedy: "remove the foreign port, or set serial = false" });
      } else if (power === "on") {
        set("waiting_power_off", (err as Error).message);
        logger.warn("VM serial port not wired while the VM runs; esxkit retries when it is powered off (or run `esxkit vm serial attach` then)", { error: err });
      } else {
        set("failed", (err as Error).message);
        logger.warn("VM serial port not wired; retrying", { error: err, retry_in_s: CHECK_INTERVAL_MS / 1000 });
      }
    } finally {
      running = false;
      // Wired, or someone else's port: nothing more to try until the BMC restarts.
      if (status.state === "wired" || status.state === "foreign_port") clearInterval(timer);
    }
  };

  const timer = setInterval(() => void attempt(), CHECK_INTERVAL_MS);
  void attempt();
  timer.unref?.();
  return {
    status: () => status,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
