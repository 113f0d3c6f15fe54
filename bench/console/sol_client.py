#!/usr/bin/python3
"""Drives a real `ipmitool ... sol activate` through a pty, the way a person at a terminal does,
and measures what that person sees.

  sol_client.py latency ROUNDS -- ipmitool ARGS...     keystroke → echo, one key at a time
  sol_client.py throughput BYTES -- ipmitool ARGS...   sends "g", counts BYTES of output

The console's far end must echo (latency) or, on "g", send BYTES bytes of printable text
(throughput). Prints one JSON line. Times are wall clock at the pty, so they include
ipmitool's own work: that is what a user waits for.
"""
import json, os, pty, select, sys, time

def spawn(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    return pid, fd

def read_until(fd, pred, deadline, buf=b""):
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if pred(buf):
                return buf, True
    return buf, False

def main():
    mode, arg = sys.argv[1], int(sys.argv[2])
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = spawn(argv)
    out, ok = read_until(fd, lambda b: b"operational" in b, time.time() + 15)
    if not ok:
        print(json.dumps({"error": "SOL did not start", "output": out.decode("latin1")[-400:]}))
        sys.exit(1)
    time.sleep(0.3)
    read_until(fd, lambda b: False, time.time() + 0.2)  # drain the banner and any history
    result = {"mode": mode}
    if mode == "latency":
        samples = []
        # No "g": it makes the fake VM send its throughput burst, whose upper-case letters would
        # then "echo" every later key at once and hide the real round trip.
        keys = b"abcdefhijklmnopqrstuvwxyz"
        for i in range(arg):
            k = keys[i % len(keys):i % len(keys) + 1]
            t0 = time.perf_counter()
            os.write(fd, k)
            _, ok = read_until(fd, lambda b: k.upper() in b, time.time() + 5)
            if not ok:
                result["lost"] = result.get("lost", 0) + 1
                continue
            samples.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
        samples.sort()
        pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] if samples else None
        result.update(rounds=arg, p50_ms=pick(0.5), p99_ms=pick(0.99), max_ms=samples[-1] if samples else None)
    else:
        t0 = time.perf_counter()
        os.write(fd, b"g")
        got = 0
        last = t0
        deadline = time.time() + 120
        while got < arg and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 2.0)
            if not r:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            # The pty turns "\n" into "\r\n"; the source sends no newlines, so count as is.
            got += len(chunk)
            last = time.perf_counter()
        secs = last - t0
        result.update(bytes_expected=arg, bytes_seen=got, seconds=secs, bytes_per_s=got / secs if secs > 0 else None)
    os.write(fd, b"\r~.")
    read_until(fd, lambda b: False, time.time() + 0.5)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    print(json.dumps(result))

main()
