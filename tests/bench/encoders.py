#!/usr/bin/env python3
"""Per-encoder measurements for docs/ENCODERS.md (run by hand; cheap on purpose).

  encoders.py crf CLIP [--seconds 8]
      Encode a stretch of CLIP at several constant qualities with each encoder's
      sampling settings (the same options as its descriptor's cfg->fast) and fit
      log2(bitrate) = a + b * crf. Prints the mapping from x264's crf scale to
      each encoder's own that lands at the same bitrate: enc_crf = A + B * x264_crf.

  encoders.py accuracy --shrink BIN CLIP... [--targets 40,120] [--seconds 20]
      shrink each clip (trimmed to --seconds) with --codec NAME at each target
      (kb/s over the trimmed length) and report, per encoder: the first
      attempt's size against the target, the attempts needed, the final fill,
      and the wall time.

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

# name, libavcodec encoder, sampling options (as the descriptors set them for cfg->fast),
# crf flag range to sample
ENCODERS = [
    ("x264", "libx264", ["-preset", "veryfast"], [18, 24, 30, 36, 42]),
    ("x265", "libx265", ["-preset", "ultrafast", "-x265-params", "log-level=error:info=0"], [18, 24, 30, 36, 42]),
    ("vp9", "libvpx-vp9", ["-deadline", "good", "-cpu-used", "5", "-row-mt", "1", "-b:v", "0"], [20, 30, 40, 50, 60]),
    ("svt-av1", "libsvtav1", ["-preset", "12"], [20, 30, 40, 50, 60]),
    ("aom", "libaom-av1", ["-cpu-used", "8", "-row-mt", "1", "-b:v", "0"], [20, 30, 40, 50, 60]),
]


def have(lavc):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return re.search(r"^ V\S* %s " % re.escape(lavc), out, re.M) is not None


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def cmd_crf(a):
    tmp = tempfile.mkdtemp(prefix="shrink-crf.")
    raw = os.path.join(tmp, "src.y4m")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", a.clip, "-t", str(a.seconds), "-an",
                    "-pix_fmt", "yuv420p", raw], check=True)
    env = dict(os.environ, SVT_LOG="1")
    fits = {}
    for name, lavc, opts, crfs in ENCODERS:
        if not have(lavc):
            print("%s: not in this FFmpeg" % name)
            continue
        pts = []
        for crf in crfs:
            out = os.path.join(tmp, "%s.mkv" % name)
            t0 = time.time()
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-c:v", lavc] + opts +
                           ["-crf", str(crf), out], check=True, env=env)
            dt = time.time() - t0
            bps = os.path.getsize(out) * 8 / a.seconds
            pts.append((crf, bps, dt))
            print("%-8s crf %2d: %8.0f b/s  %.1f s" % (name, crf, bps, dt), flush=True)
        fits[name] = fit([p[0] for p in pts], [math.log2(p[1]) for p in pts])
    ax, bx = fits["x264"]
    print("\nlog2(bps) = a + b*crf; mapping enc_crf = A + B * x264_crf (same bitrate):")
    for name, (a_, b_) in fits.items():
        # a_ + b_*e = ax + bx*x  ->  e = (ax - a_)/b_ + (bx/b_) x
        print("  %-8s a=%.3f b=%.4f (crf per halving %.2f)  A=%.2f B=%.3f" % (
            name, a_, b_, -1 / b_, (ax - a_) / b_, bx / b_))
    subprocess.run(["rm", "-rf", tmp])


def cmd_accuracy(a):
    targets = [int(t) for t in a.targets.split(",")]
    rows = []
    for name, lavc, _, _ in ENCODERS:
        if a.codecs and name not in a.codecs.split(","):
            continue
        if not have(lavc):
            continue
        for clip in a.clips:
            for kbps in targets:
                target = int(kbps * 1000 * a.seconds / 8)
                with tempfile.TemporaryDirectory(prefix="shrink-acc.") as d:
                    out = os.path.join(d, "out.mkv")
                    t0 = time.time()
                    p = subprocess.run([a.shrink, clip, "--target", str(target), "--duration", str(a.seconds),
                                        "--codec", name, "-o", out, "-v", "--json"],
                                       capture_output=True, text=True)
                    dt = time.time() - t0
                    tries = [float(m) for m in re.findall(r"(?:pass 2|encode) at \d+ b/s: .*?\(([0-9.]+)% of", p.stderr)]
                    js = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
                    row = {"codec": name, "clip": os.path.basename(clip), "kbps": kbps, "target": target,
                           "rc": p.returncode, "first": tries[0] if tries else None,
                           "attempts": js.get("attempts"), "fill": 100.0 * js["bytes"] / target if js.get("bytes") else None,
                           "seconds": round(dt, 1), "rung": "%sx%s@%s" % (js.get("width"), js.get("height"), js.get("fps"))}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print("\n| encoder | clip | target | first attempt | attempts | final | time |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %d kb/s (%d B) | %s | %s | %s | %.1f s |" % (
            r["codec"], r["clip"], r["kbps"], r["target"],
            "%.1f%%" % r["first"] if r["first"] is not None else "-", r["attempts"],
            "%.1f%%" % r["fill"] if r["fill"] else "rc %d" % r["rc"], r["seconds"]))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("crf")
    c.add_argument("clip")
    c.add_argument("--seconds", type=float, default=8)
    c = sub.add_parser("accuracy")
    c.add_argument("clips", nargs="+")
    c.add_argument("--shrink", default="build/shrink")
    c.add_argument("--targets", default="40,120")
    c.add_argument("--seconds", type=float, default=20)
    c.add_argument("--codecs", default="")
    a = ap.parse_args()
    return cmd_crf(a) if a.cmd == "crf" else cmd_accuracy(a)


if __name__ == "__main__":
    sys.exit(main())
