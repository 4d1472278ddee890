#!/usr/bin/env python3
"""Runs a command and writes "WALL_SECONDS PEAK_RSS_KB EXIT_CODE CPU_SECONDS" to OUT.

WALL_SECONDS runs from just before the command is started to its exit.
PEAK_RSS_KB is the process's VmHWM (its peak resident set, from
/proc/PID/status), polled every 20 ms while it runs (by a thread, while the main one waits
for the exit, so that the wall time ends at the exit); VmHWM only grows, so the
last value read is the peak up to ~20 ms before the exit. The kernel's own
high-water mark at the exit (ru_maxrss from wait4, the same counter) covers
those last milliseconds; the larger of the two is written.
CPU_SECONDS is the user plus system time of the command (wait4's rusage),
which a busy machine inflates far less than it does the wall time: it tells
what a change costs per record when other work shares the cores.
The command's stdin, stdout and stderr are this script's.

Usage: measure.py OUT CMD [ARGS...]
"""
import os
import sys
import threading
import time


def vmhwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone (or a zombie, whose memory is already freed)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: measure.py OUT CMD [ARGS...]")
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    child = os.posix_spawnp(cmd[0], cmd, os.environ)
    peak = 0
    exited = threading.Event()

    def poll():  # a thread, so that the exit is seen at once, not at the next poll
        nonlocal peak
        while not exited.wait(0.02):
            peak = max(peak, vmhwm_kb(child))

    poller = threading.Thread(target=poll)
    poller.start()
    _, status, usage = os.wait4(child, 0)
    wall = time.monotonic() - start
    exited.set()
    poller.join()
    peak = max(peak, usage.ru_maxrss)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as f:
        f.write(f"{wall:.3f} {peak} {code} {usage.ru_utime + usage.ru_stime:.3f}\n")
    sys.exit(0 if code == 0 else 1)


if __name__ == "__main__":
    main()
