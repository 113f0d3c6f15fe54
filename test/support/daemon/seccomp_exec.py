#!/usr/bin/python3
# Runs a command under an emulation of the unit's SystemCallFilter=: only the system calls in
# the named systemd groups (as `systemd-analyze syscall-filter` lists them) are allowed, and any
# other call kills the process with SIGSYS, which is stricter than the unit's
# SystemCallErrorNumber=EPERM, so a forbidden call cannot go unnoticed. libseccomp also sets
# no_new_privs, as NoNewPrivileges=yes does.
#   seccomp_exec.py @system-service PROGRAM ARG...
import os
import subprocess
import sys

import seccomp


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    table, current = {}, None
    for line in out.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if not line.startswith(" "):
            current = table.setdefault(item, [])
        elif current is not None:
            current.append(item)
    return table


def expand(name, table, seen=None):
    seen = set() if seen is None else seen
    calls = set()
    for item in table.get(name, []):
        if item.startswith("@"):
            if item not in seen:
                seen.add(item)
                calls |= expand(item, table, seen)
        else:
            calls.add(item)
    return calls


def main():
    table = groups()
    allowed = set()
    for g in sys.argv[1].split(","):
        allowed |= expand(g, table)
    f = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    for call in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError, OSError):
            pass  # not a system call on this architecture
    f.load()
    os.execv(sys.argv[2], sys.argv[2:])


main()
