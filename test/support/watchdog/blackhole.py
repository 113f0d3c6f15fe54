#!/usr/bin/python3
"""A TCP port on loopback that never answers: connects to it time out, like an address whose
packets are dropped. Used as an unreachable isolation address without touching firewall rules.

How: a listening socket with backlog 0 that never accepts, its one queue slot filled by a
connection of our own. Linux then drops further SYNs (the accept queue is full), so a
client's connect() hangs until its own timeout. Prints {"port":P} once ready; exits on
SIGTERM or stdin EOF.
"""
import json
import socket
import sys

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
srv.listen(0)
port = srv.getsockname()[1]
fillers = []
for _ in range(2):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(c)
sys.stdout.write(json.dumps({"port": port}) + "\n")
sys.stdout.flush()
sys.stdin.read()
