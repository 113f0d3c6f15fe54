# Drives esxkit's Redfish service with Debian's python3-sushy (Ironic's client library) and
# prints one JSON object of what it saw. argv: base_url user password system_path [auth]
import json
import sys
import time

import sushy
from sushy import auth as sauth

base, user, password, system_path = sys.argv[1:5]
mode = sys.argv[5] if len(sys.argv) > 5 else "auto"
verify = sys.argv[6] if len(sys.argv) > 6 else False
out = {}
authenticator = {"auto": sauth.SessionOrBasicAuth, "session": sauth.SessionAuth, "basic": sauth.BasicAuth}[mode](username=user, password=password)
root = sushy.Sushy(base, verify=verify, auth=authenticator)
out["redfish_version"] = root.redfish_version
out["session_token"] = bool(getattr(authenticator, "get_session_key", lambda: None)()) if mode != "basic" else False
systems = root.get_system_collection()
out["members"] = sorted(systems.members_identities)
system = root.get_system(system_path)
out["identity"] = system.identity
out["uuid"] = system.uuid
out["power"] = system.power_state
out["boot"] = {"target": system.boot.target, "enabled": system.boot.enabled, "mode": system.boot.mode}
out["allowed_targets"] = sorted(str(v.value if hasattr(v, "value") else v) for v in system.get_allowed_system_boot_source_values())
out["allowed_resets"] = sorted(str(v.value if hasattr(v, "value") else v) for v in system.get_allowed_reset_system_values())
out["memory_gib"] = system.memory_summary.size_gib if system.memory_summary else None
out["cpus"] = system.processors.summary[0] if system.processors else None
out["macs"] = sorted(n.mac_address for n in system.ethernet_interfaces.get_members())
out["managers"] = [m.identity for m in system.managers]

system.set_system_boot_options(target=sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
system.refresh()
out["boot_after"] = {"target": system.boot.target, "enabled": system.boot.enabled}



def reset_and_wait(reset, state):
    system.reset_system(reset)
    for _ in range(50):
        system.refresh()
        if system.power_state == state:
            break
        time.sleep(0.2)
    return system.power_state


out["power_after_on"] = reset_and_wait(sushy.RESET_ON, sushy.POWER_STATE_ON)
try:
    system.set_system_boot_options(mode=sushy.BOOT_SOURCE_MODE_UEFI if system.boot.mode == sushy.BOOT_SOURCE_MODE_BIOS else sushy.BOOT_SOURCE_MODE_BIOS)
    out["mode_change_while_on"] = "accepted"
except Exception as e:  # noqa: BLE001 - we report what sushy raised
    out["mode_change_while_on"] = type(e).__name__
    out["mode_change_status"] = getattr(e, "status_code", None)
out["power_after_off"] = reset_and_wait(sushy.RESET_FORCE_OFF, sushy.POWER_STATE_OFF)
new_mode = sushy.BOOT_SOURCE_MODE_UEFI if system.boot.mode == sushy.BOOT_SOURCE_MODE_BIOS else sushy.BOOT_SOURCE_MODE_BIOS
system.set_system_boot_options(mode=new_mode)
system.refresh()
out["mode_after_patch_off"] = system.boot.mode
out["mode_wanted"] = new_mode

manager = system.managers[0]
vm = manager.virtual_media
out["manager_media"] = sorted(vm.members_identities) if vm else []
print(json.dumps(out, default=lambda v: getattr(v, "value", str(v))))
