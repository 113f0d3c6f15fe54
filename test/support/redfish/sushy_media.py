# Virtual media through Debian's python3-sushy 4.3.3 the way Ironic's redfish boot interface
# does it: the Manager's VirtualMedia (that sushy looks nowhere else), eject, then insert.
# argv: base_url user password system_path image_url ca_file; prints one JSON object.
import json
import sys

import sushy
from sushy import auth as sauth

base, user, password, system_path, image, ca = sys.argv[1:7]
root = sushy.Sushy(base, verify=ca, auth=sauth.SessionOrBasicAuth(username=user, password=password))
system = root.get_system(system_path)
manager = system.managers[0]
out = {"devices": sorted(manager.virtual_media.members_identities)}
cd = [m for m in manager.virtual_media.get_members() if sushy.VIRTUAL_MEDIA_CD in m.media_types][0]
cd.eject_media()  # body-less POST, as sushy sends it
cd.insert_media(image, inserted=True, write_protected=True)
cd.refresh()
out["after_insert"] = {"image": cd.image, "inserted": cd.inserted, "write_protected": cd.write_protected}
try:
    cd.insert_media(image.replace(".iso", "-other.iso"))
    out["second_insert"] = "accepted"
except sushy.exceptions.HTTPError as e:
    out["second_insert"] = e.status_code
cd.eject_media()
cd.refresh()
out["after_eject"] = {"image": cd.image, "inserted": cd.inserted}
try:
    cd.insert_media("http://127.0.0.1:9/missing.iso")
    out["bad_url"] = "accepted"
except sushy.exceptions.HTTPError as e:
    out["bad_url"] = e.status_code
    out["bad_url_message"] = e.message
print(json.dumps(out, default=lambda v: getattr(v, "value", str(v))))
