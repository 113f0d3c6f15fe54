"""Runs a command on a pseudo-terminal and plays a script against it, for SOL tests.

usage: pty_drive.py SCRIPT_JSON -- command args...
SCRIPT_JSON is a list of steps:
  {"expect": "regex", "timeout": seconds}   wait until the output so far (since the last
                                            expect) matches; fail the run if it does not
  {"send": "text"}                          write text to the terminal (\\r for Enter)
  {"sleep": seconds}
  {"close": true}                           close the terminal (EOF / hang-up)
  {"wait_file": path, "timeout": seconds}   wait until the file exists (the test's go-ahead)
  {"touch": path}                           create the file (the driver's word to the test)
After the script it waits (bounded by "exit_timeout", default 10 s) for the command to exit.
Prints one JSON object: {"ok", "failed_step", "output", "exit_code", "timed_out"}.
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    script = json.loads(sys.argv[1])
    sep = sys.argv.index("--")
    cmd = sys.argv[sep + 1 :]
    exit_timeout = 10.0
    steps = []
    for s in script:
        if "exit_timeout" in s:
            exit_timeout = float(s["exit_timeout"])
        else:
            steps.append(s)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    mark = 0
    failed = None
    alive = True

    def pump(deadline):
        nonlocal out, alive
        while alive:
            left = deadline - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([fd], [], [], min(left, 0.05))
            if not r:
                return
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                alive = False
                return
            if not chunk:
                alive = False
                return
            out += chunk

    for i, step in enumerate(steps):
        if "expect" in step:
            deadline = time.time() + float(step.get("timeout", 10))
            pat = re.compile(step["expect"].encode("latin1"))
            while True:
                m = pat.search(out, mark)
                if m:
                    mark = m.end()
                    break
                if time.time() >= deadline or not alive:
                    failed = i
                    break
                pump(min(deadline, time.time() + 0.05))
            if failed is not None:
                break
        elif "send" in step:
            try:
                os.write(fd, step["send"].encode("latin1"))
            except OSError:
                failed = i
                break
            pump(time.time() + 0.02)
        elif "sleep" in step:
            end = time.time() + float(step["sleep"])
            while time.time() < end:
                pump(end)
                if not alive:
                    time.sleep(max(0, end - time.time()))
        elif "wait_file" in step:
            deadline = time.time() + float(step.get("timeout", 20))
            while not os.path.exists(step["wait_file"]):
                if time.time() >= deadline:
                    failed = i
                    break
                pump(min(deadline, time.time() + 0.05))
            if failed is not None:
                break
        elif "touch" in step:
            open(step["touch"], "a").close()
        elif "close" in step:
            os.close(fd)
            alive = False

    code = None
    timed_out = False
    deadline = time.time() + exit_timeout
    while True:
        if alive:
            pump(time.time() + 0.05)
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.time() >= deadline:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            break
        if not alive:
            time.sleep(0.05)
    if alive:
        pump(time.time() + 0.1)
    print(json.dumps({"ok": failed is None, "failed_step": failed, "output": out.decode("latin1"), "exit_code": code, "timed_out": timed_out}))


main()
