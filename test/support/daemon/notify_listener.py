# A stand-in for systemd's notification socket: binds a unix datagram socket (a path, or
# "@name" for an abstract one), prints "ready", then prints each datagram as one JSON line.
import json, socket, sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
print("ready", flush=True)
s.settimeout(float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
try:
    while True:
        print(json.dumps(s.recv(65536).decode()), flush=True)
except socket.timeout:
    pass
