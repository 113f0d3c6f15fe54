# Ironic's own redfish driver code (python3-ironic) against esxkit, without a conductor: a
# fake node and task carry driver_info the way `baremetal node create --driver redfish` sets
# it. argv: address system_id user password ca_file; prints one JSON object.
import json
import sys
import types

from ironic.common import boot_devices, states
from ironic.conductor.task_manager import TaskManager
from ironic.conf import CONF
from ironic.drivers.modules.redfish import management as rf_management
from ironic.drivers.modules.redfish import power as rf_power
from ironic.drivers.modules.redfish import utils as rf_utils

CONF([], project="ironic")
address, system_id, user, password, ca = sys.argv[1:6]


class Node:
    uuid = "2c3f4a9e-0000-4000-8000-0000000000aa"
    driver_info = {"redfish_address": address, "redfish_system_id": system_id, "redfish_username": user, "redfish_password": password, "redfish_verify_ca": ca}
    driver_internal_info = {}
    properties = {}
    instance_info = {}
    power_state = None

    def set_driver_internal_info(self, k, v):
        self.driver_internal_info[k] = v

    def del_driver_internal_info(self, k):
        self.driver_internal_info.pop(k, None)

    def save(self):
        pass


node = Node()
class Task(TaskManager):
    """An exclusive task over the fake node (require_exclusive_lock checks the type)."""

    def __init__(self, node):  # noqa: super().__init__ would take a lock through the database
        self._node = node
        self.shared = False
        self.context = types.SimpleNamespace(ensure_thread_contain_context=lambda: None)
        self.driver = None

    @property
    def node(self):
        return self._node


task = Task(node)
out = {}
system = rf_utils.get_system(node)
out["system"] = system.identity
power = rf_power.RedfishPower()
task.driver = types.SimpleNamespace(management=rf_management.RedfishManagement(), power=power)
out["power"] = power.get_power_state(task)
mgmt = rf_management.RedfishManagement()
mgmt.set_boot_device(task, boot_devices.PXE, persistent=False)
out["boot"] = mgmt.get_boot_device(task)
out["macs"] = sorted(rf_utils.get_enabled_macs(task, system).keys())
power.set_power_state(task, states.POWER_ON, timeout=30)
out["power_after_on"] = power.get_power_state(task)
power.set_power_state(task, states.POWER_OFF, timeout=30)
out["power_after_off"] = power.get_power_state(task)
print(json.dumps(out, default=str))
