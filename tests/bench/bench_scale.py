#!/usr/bin/env python3
"""The scaling table of `make bench` (docs/SCALE.md).

A long input is made by looping a shared clip (stream copy: no re-encode),
then shrunk three ways at the same target:
  single   shrink IN --target T                      (one process)
  1 worker shrink plan; encode-chunk one after another; join
  2 workers shrink plan; encode-chunk by GNU parallel -j 2; join
Wall times are measured for those; 16 and 64 workers are projected from the
measured chunk times (critical path = plan + the longest chunk of each wave
of a greedy schedule in chunk order, as GNU parallel runs them + join), for
this input and, scaled by its length, for a two-hour film cut into one-minute
chunks. Quality is SSIM by FFmpeg's ssim filter against the source, size in
bytes, for the joined output and the single-process one.

Usage: tests/bench/bench_scale.py --shrink build/shrink [--clip PATH] [--minutes M]
       [--rate KBPS] [--chunks N] [--work DIR] [--out FILE]
SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, **kw)
    return time.monotonic() - t0


def duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def ssim(out, src):
    wh = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=width,height",
                         "-of", "csv=p=0:s=x", src], check=True, capture_output=True, text=True).stdout.strip()
    w, h = wh.split("x")
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", out, "-i", src, "-lavfi",
                        "[0:v]scale=%s:%s:flags=bicubic[a];[a][1:v]ssim" % (w, h), "-f", "null", "-"],
                       capture_output=True, text=True)
    for tok in r.stderr.split():
        if tok.startswith("All:"):
            return float(tok[4:])
    raise RuntimeError("no SSIM from ffmpeg: " + r.stderr[-300:])


def makespan(times, workers):
    """Chunks started in order on the first free worker (GNU parallel's way): when the last one ends."""
    free = [0.0] * workers
    for t in times:
        i = free.index(min(free))
        free[i] += t
    return max(free)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shrink", required=True)
    ap.add_argument("--clip", default=os.path.join(ROOT, "..", "shared", "media", "bbb_360p_60s.mp4"))
    ap.add_argument("--minutes", type=float, default=5, help="length of the looped input")
    ap.add_argument("--rate", type=float, default=150, help="target as a total bitrate, kb/s")
    ap.add_argument("--chunks", type=int, default=10)
    ap.add_argument("--pin", default="--codec x264 --height 360 --fps 24",
                    help="options for both runs: the same picture and rate, so the comparison is of the execution "
                         "(the solver's search is not repeatable run to run)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=None, help="write the markdown table here (default: stdout)")
    a = ap.parse_args()

    if not os.path.exists(a.clip):
        print("bench_scale: %s is missing: skipped" % a.clip, file=sys.stderr)
        return 0
    if not shutil.which("parallel"):
        print("bench_scale: no GNU parallel (apt-get install parallel): skipped", file=sys.stderr)
        return 0
    shrink = os.path.abspath(a.shrink)
    work = a.work or tempfile.mkdtemp(prefix="shrink-bench-scale.")
    os.makedirs(work, exist_ok=True)
    load_before = loadavg()
    started = datetime.datetime.utcnow()

    # The long input: the clip looped, packets copied.
    clip_s = duration(a.clip)
    loops = max(1, round(a.minutes * 60 / clip_s))
    src = os.path.join(work, "long.mp4")
    if not os.path.exists(src):
        lst = os.path.join(work, "list.txt")
        with open(lst, "w") as f:
            for _ in range(loops):
                f.write("file '%s'\n" % os.path.abspath(a.clip).replace("'", "'\\''"))
        run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", lst, "-c", "copy",
             src + ".tmp.mp4"])
        os.rename(src + ".tmp.mp4", src)
    film_s = duration(src)
    target = int(a.rate * 1000 / 8 * film_s)
    pin = a.pin.split()

    single = os.path.join(work, "single.mp4")
    t_single = run([shrink, src, "--target", str(target), "-o", single, "-f", "-q"] + pin)

    def chunked(tag, workers):
        d = os.path.join(work, tag)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        plan = os.path.join(d, "plan.json")
        t_plan = run([shrink, "plan", src, "--target", str(target), "-o", plan, "--chunks", str(a.chunks), "-q"] + pin)
        n = len(json.load(open(plan))["chunks"])
        times = []
        if workers == 1:
            for k in range(n):
                times.append(run([shrink, "encode-chunk", plan, str(k), "-o", os.path.join(d, "chunk_%d.mp4" % k),
                                  "-q"]))
            t_chunks = sum(times)
        else:
            t_chunks = run(["parallel", "--will-cite", "-j", str(workers), shrink, "encode-chunk", plan, "{}", "-o",
                            os.path.join(d, "chunk_{}.mp4"), "-q", ":::"] + [str(k) for k in range(n)])
        out = os.path.join(d, "joined.mp4")
        t_join = run([shrink, "join", plan, "-o", out, "-f", "-q"] +
                     [os.path.join(d, "chunk_%d.mp4" % k) for k in range(n)])
        return dict(plan=t_plan, chunks=t_chunks, join=t_join, times=times, out=out, n=n)

    one = chunked("w1", 1)
    two = chunked("w2", 2)
    s_single = ssim(single, src)
    s_joined = ssim(two["out"], src)
    b_single = os.path.getsize(single)
    b_joined = os.path.getsize(two["out"])

    # Projections from the 1-worker run's chunk times.
    rows = []
    for w in (1, 2, 16, 64):
        proj = one["plan"] + makespan(one["times"], w) + one["join"]
        rows.append((w, proj))
    # A two-hour film: one-minute chunks, each costing what a minute costs here; plan and join grow with length
    # (the solver's samples do not: this over-counts them).
    per_film_s = sum(one["times"]) / film_s
    chunk_2h = per_film_s * 60
    scale = 7200 / film_s
    rows_2h = [(w, one["plan"] * scale + math.ceil(120 / w) * chunk_2h + one["join"] * scale) for w in (1, 2, 16, 64)]

    lines = []
    p = lines.append
    p("Measured %s UTC on %s (%d cores), load average %s before and %s after; %s."
      % (started.strftime("%Y-%m-%d %H:%M"), platform.node() or "this machine", os.cpu_count() or 0, load_before,
         loadavg(), subprocess.run([shrink, "--version"], capture_output=True, text=True).stdout.strip()))
    p("")
    p("Input: `%s` looped %d times by stream copy (%.1f s, %d MB), target %d bytes (%.0f kb/s), `%s` for both, "
      "%d chunks." % (os.path.basename(a.clip), loops, film_s, os.path.getsize(src) // 1000000, target, a.rate,
                      a.pin, one["n"]))
    p("")
    p("| run | workers | wall time (s) | how |")
    p("|---|---|---|---|")
    p("| single process | 1 | %.1f | measured |" % t_single)
    p("| plan + chunks + join | 1 | %.1f | measured (plan %.1f, chunks %.1f, join %.1f) |"
      % (one["plan"] + one["chunks"] + one["join"], one["plan"], one["chunks"], one["join"]))
    p("| plan + chunks + join | 2 | %.1f | measured (plan %.1f, chunks %.1f, join %.1f) |"
      % (two["plan"] + two["chunks"] + two["join"], two["plan"], two["chunks"], two["join"]))
    for w, t in rows[2:]:
        p("| plan + chunks + join | %d | %.1f | projected: plan + longest chunk per wave + join |" % (w, t))
    p("")
    p("Chunk times (1 worker, s): %s." % ", ".join("%.1f" % t for t in one["times"]))
    p("")
    p("Projected for a two-hour film in 120 one-minute chunks at this machine's measured speed "
      "(%.2f s of encoding per second of film; plan and join scaled by length):" % per_film_s)
    p("")
    p("| workers | wall time |")
    p("|---|---|")
    for w, t in rows_2h:
        p("| %d | %.0f s (%.1f min) |" % (w, t, t / 60))
    p("")
    p("| output | bytes | of target | SSIM (FFmpeg, vs source) |")
    p("|---|---|---|---|")
    p("| single process | %d | %.1f%% | %.5f |" % (b_single, 100.0 * b_single / target, s_single))
    p("| joined (2 workers) | %d | %.1f%% | %.5f |" % (b_joined, 100.0 * b_joined / target, s_joined))
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
