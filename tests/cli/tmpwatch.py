#!/usr/bin/env python3
"""tmpwatch.py DIR PEAKFILE CMD...: run CMD and record the most disk it held under DIR.

du alone cannot see shrink's frame cache: it is an unnamed (O_TMPFILE) file
with no directory entry. So every 0.05 s this adds the sizes of the files
under DIR (the pass logs) and of the files the process tree holds open that
live in DIR but have no name there (unnamed or deleted). The peak, in bytes,
goes to PEAKFILE (also written on the way, so a killed run leaves it); the
exit status is CMD's.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import subprocess
import sys
import time


def tree(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def held(pids, root):
    total, seen = 0, set()
    for p in pids:
        fddir = "/proc/%d/fd" % p
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fddir, fd))
                if not link.startswith(root + "/") or not link.endswith("(deleted)") and "/#" not in link:
                    continue
                st = os.stat(os.path.join(fddir, fd))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def named(root):
    total = 0
    for d, _, files in os.walk(root):
        for n in files:
            try:
                total += os.lstat(os.path.join(d, n)).st_size
            except OSError:
                pass
    return total


def main():
    root, peakfile, cmd = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    proc = subprocess.Popen(cmd)
    peak, last = 0, 0
    while proc.poll() is None:
        now = named(root) + held(tree(proc.pid), root)
        if now > peak:
            peak = now
            if time.time() - last > 0.5:
                last = time.time()
                with open(peakfile, "w") as f:
                    f.write("%d\n" % peak)
        time.sleep(0.05)
    with open(peakfile, "w") as f:
        f.write("%d\n" % peak)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
