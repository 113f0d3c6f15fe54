#!/usr/bin/python3
"""A fake physical BMC for one simulated ESXi host (pyghmi's Bmc server class).

Run with Debian's /usr/bin/python3 (python3-pyghmi). The power state lives in memory:
- "power on" starts the host: runs --host-cmd (a JSON argv), waits for its ready line in a
  background thread, and reports it;
- "power off" SIGKILLs the host process, like pulling the power;
- a host that crashed on its own leaves the chassis "on", as a crashed OS does.

Events are printed on stdout, one JSON object per line:
  {"event":"ready","port":P}                     the BMC listens
  {"event":"host_started","pid":N,"ready":{...}}  the host printed its ready line
  {"event":"host_failed","error":"..."}           the host did not become ready
  {"event":"power_off","killed":N|null}
  {"event":"power_on","pid":N}                     (followed by host_started)
Get System GUID (App 37h) answers --system-guid in --guid-order byte order (rfc4122, smbios
with the first three fields little-endian, or reversed), or 0xC1 when no GUID is given.
SIGTERM / stdin EOF: kill the host process this BMC started, then exit.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid

import pyghmi.ipmi.bmc as bmc

lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


class FakeBmc(bmc.Bmc):
    def __init__(self, authdata, port, address, host_cmd, host_log, system_guid=None):
        super().__init__(authdata, port=port, address=address)
        self.system_guid = system_guid
        self.host_cmd = host_cmd
        self.host_log = host_log
        self.powered = False
        self.proc = None

    def _start_host(self, wait=False, cmd=None):
        log = open(self.host_log, "ab")
        proc = subprocess.Popen(cmd or self.host_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        log.close()
        self.proc = proc
        self.powered = True
        emit({"event": "power_on", "pid": proc.pid})

        started = threading.Event()

        def wait_ready():
            line = proc.stdout.readline()
            try:
                ready = json.loads(line)
                emit({"event": "host_started", "pid": proc.pid, "ready": ready})
            except Exception as e:  # noqa: BLE001 - report anything
                emit({"event": "host_failed", "pid": proc.pid, "error": "%s: %r" % (e, line[:200])})
            started.set()
            # keep draining so the host never blocks on a full pipe
            for _ in proc.stdout:
                pass

        t = threading.Thread(target=wait_ready, daemon=True)
        t.start()
        if wait:
            started.wait(60)

    def _kill_host(self):
        killed = None
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)  # a SIGSTOPped process dies on SIGKILL too; CONT keeps ps tidy
                os.kill(p.pid, signal.SIGKILL)
                killed = p.pid
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None
        return killed

    def handle_raw_request(self, request, session):
        if request["netfn"] == 6 and request["command"] == 0x37:  # Get System GUID
            if self.system_guid is None:
                return session.send_ipmi_response(code=0xC1)
            return session.send_ipmi_response(data=list(self.system_guid))
        return super().handle_raw_request(request, session)

    def get_power_state(self):
        return "on" if self.powered else "off"

    def power_off(self):
        killed = self._kill_host()
        self.powered = False
        emit({"event": "power_off", "killed": killed})
        return 0

    def power_on(self):
        if self.powered:
            return 0
        self._start_host()
        return 0

    def power_cycle(self):
        self.power_off()
        return self.power_on()

    def power_reset(self):
        return self.power_cycle()

    def power_shutdown(self):
        return self.power_off()

    def cleanup(self):
        self._kill_host()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-env", default="FAKE_BMC_PASSWORD")
    ap.add_argument("--host-cmd", required=True, help="JSON argv that starts the host on power on")
    ap.add_argument("--first-cmd", help="JSON argv for the very first start (default: --host-cmd)")
    ap.add_argument("--host-log", default=os.devnull)
    ap.add_argument("--off", action="store_true", help="start with the chassis off")
    ap.add_argument("--system-guid", help="the uuid Get System GUID reports")
    ap.add_argument("--guid-order", choices=["rfc4122", "smbios", "reversed"], default="smbios")
    a = ap.parse_args()
    port = a.port
    if port == 0:
        # pyghmi keys its server sessions by the configured port, so 0 cannot be passed through.
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind((a.address, 0))
        port = probe.getsockname()[1]
        probe.close()
    password = os.environ.get(a.password_env)
    if not password:
        sys.exit("fake_bmc: $%s is not set" % a.password_env)
    guid = None
    if a.system_guid:
        u = uuid.UUID(a.system_guid)
        guid = {"rfc4122": u.bytes, "smbios": u.bytes_le, "reversed": u.bytes[::-1]}[a.guid_order]
    server = FakeBmc({a.user: password}, port, a.address, json.loads(a.host_cmd), a.host_log, guid)
    if not a.off:
        server._start_host(wait=True, cmd=json.loads(a.first_cmd or a.host_cmd))

    def stop(*_):
        server.cleanup()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin():
        try:
            sys.stdin.read()
        finally:
            stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    emit({"event": "ready", "port": server.serversocket.getsockname()[1]})
    server.listen()


if __name__ == "__main__":
    main()
