#!/usr/bin/python3
# A stand-in for journald's native socket: binds SOCKET (AF_UNIX, SOCK_DGRAM), decodes every
# datagram as the native journal protocol (FIELD=value lines; FIELD, 64-bit LE length, bytes
# for binary-safe values) and appends it to OUT as one JSON object per line.
#   journal_listener.py SOCKET OUT
import json
import os
import socket
import struct
import sys


def decode(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            fields[k.decode()] = v.decode()
            i = nl + 1
        else:
            (n,) = struct.unpack("<Q", data[nl + 1 : nl + 9])
            fields[line.decode()] = data[nl + 9 : nl + 9 + n].decode()
            if data[nl + 9 + n : nl + 10 + n] != b"\n":
                raise ValueError("binary field not followed by a newline")
            i = nl + 10 + n
    return fields


def main():
    path, out = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a", buffering=1) as f:
        while True:
            data = s.recv(1 << 20)
            try:
                f.write(json.dumps(decode(data)) + "\n")
            except (ValueError, UnicodeDecodeError) as e:
                f.write(json.dumps({"MALFORMED": str(e)}) + "\n")


main()
