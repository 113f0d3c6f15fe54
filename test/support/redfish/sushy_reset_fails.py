# A reset that vCenter refuses must reach Ironic's library as an exception that carries
# vCenter's reason, never as a silent success. argv: base_url user password system_path ca reset
# The simulator implements no RebootGuest, so GracefulRestart is the refusal we can provoke.
import json
import sys
import time

import sushy
from sushy import auth as sauth

base, user, password, system_path, ca, reset = sys.argv[1:7]
system = sushy.Sushy(base, verify=ca, auth=sauth.BasicAuth(username=user, password=password)).get_system(system_path)
# GracefulRestart of a VM that is off is a different refusal (409): switch it on first.
if system.power_state != sushy.POWER_STATE_ON:
    system.reset_system(sushy.ResetType.ON)
    for _ in range(50):
        system.refresh()
        if system.power_state == sushy.POWER_STATE_ON:
            break
        time.sleep(0.1)
out = {"power": str(system.power_state)}
try:
    system.reset_system(sushy.ResetType(reset))
    out["raised"] = None
except sushy.exceptions.HTTPError as e:
    out["raised"] = type(e).__name__
    out["status"] = e.status_code
    out["message"] = str(e)
print(json.dumps(out))
