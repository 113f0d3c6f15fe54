# A fake physical BMC on pyghmi's Bmc server class (RMCP+ suite 3 only), for client tests.
# Usage: /usr/bin/python3 pyghmi_bmc.py PORT USER PASSWORD [SYSTEM_GUID]
# With SYSTEM_GUID (a uuid), Get System GUID answers it in SMBIOS byte order; without, 0xC1.
# Prints "ready" once listening; power state lives in memory; logs power commands to stdout.
import sys
import uuid

import pyghmi.ipmi.bmc as bmc


class FakeBmc(bmc.Bmc):
    def __init__(self, authdata, port, system_guid=None):
        super().__init__(authdata, port=port, address="127.0.0.1")
        self.powerstate = "off"
        self.system_guid = system_guid

    def handle_raw_request(self, request, session):
        if request["netfn"] == 6 and request["command"] == 0x37 and self.system_guid:
            return session.send_ipmi_response(data=list(uuid.UUID(self.system_guid).bytes_le))
        return super().handle_raw_request(request, session)

    def get_power_state(self):
        return self.powerstate

    def power_off(self):
        print("power off", flush=True)
        self.powerstate = "off"

    def power_on(self):
        print("power on", flush=True)
        self.powerstate = "on"

    def power_cycle(self):
        print("power cycle", flush=True)
        self.powerstate = "on"

    def power_reset(self):
        print("power reset", flush=True)

    def power_shutdown(self):
        print("power soft", flush=True)
        self.powerstate = "off"


if __name__ == "__main__":
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    b = FakeBmc({user: password}, port, sys.argv[4] if len(sys.argv) > 4 else None)
    print("ready", flush=True)
    b.listen()
