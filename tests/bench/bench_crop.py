#!/usr/bin/env python3
"""Black bars: --crop auto against --crop off at the same size, on the picture.

The Sintel trailer (1280x720, the picture 1280x544 at 0,88) shrunk to what
100 and 20 kb/s make over its length (bytes = rate x duration / 8), once with
the bars cut (--crop auto) and once with them kept (--crop off). Each output
is compared with the source's picture area only: the source cropped to the
picture; the --crop off output cropped to the same area of its frame; both
scaled (bicubic) to the --crop auto output's size, then ffmpeg's ssim filter
(luma and all planes). Standard library and the ffmpeg CLI only.

  tests/bench/bench_crop.py [--shrink build/shrink] [--media DIR] [--rates 100,20]
SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

CLIP = "sintel_trailer_720p.mp4"
PIC = (1280, 544, 0, 88)          # the picture inside 1280x720 (cropdetect's, checked by the run)


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height:format=duration", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    s = j["streams"][0]
    return s["width"], s["height"], float(j["format"]["duration"])


def ssim(src, out, crop_src, crop_out, w, h):
    """SSIM of out's crop_out area against src's crop_src area, both at w x h."""
    def chain(c):
        return "crop=%d:%d:%d:%d,scale=%d:%d:flags=bicubic,format=yuv420p,setsar=1" % (c + (w, h))
    # the output may hold fewer frames (dropped for the rate): framesync repeats
    # the last one shown, as a player does; compared at the source's rate.
    fg = "[1:v]%s,fps=24[o];[0:v]%s[s];[o][s]ssim" % (chain(crop_out), chain(crop_src))
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", src, "-i", out, "-filter_complex", fg,
                        "-an", "-f", "null", "-"], capture_output=True, text=True)
    m = re.search(r"SSIM Y:([0-9.]+) .*All:([0-9.]+)", r.stderr)
    if not m:
        sys.exit("ssim failed: " + r.stderr[-800:])
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shrink", default="build/shrink")
    ap.add_argument("--media", default=os.environ.get("SHARED_MEDIA", "../shared/media"))
    ap.add_argument("--rates", default="100,20", help="kb/s, comma-separated")
    a = ap.parse_args()
    src = os.path.join(a.media, CLIP)
    if not os.path.exists(src):
        print("skip: no %s" % src)
        return 0
    sw, sh, dur = probe(src)
    print("# %s %dx%d %.2f s; load %s" % (CLIP, sw, sh, dur, " ".join("%.2f" % x for x in os.getloadavg())))
    print("%-6s %-5s %9s %9s %-11s %-16s %8s %8s %6s" % ("kb/s", "crop", "target", "bytes", "output",
                                                       "crop (JSON)", "SSIM Y", "SSIM all", "s"))
    with tempfile.TemporaryDirectory(prefix="shrink-bench-crop.") as tmp:
        for rate in (int(x) for x in a.rates.split(",")):
            target = int(rate * 1000 * dur / 8)
            res = {}
            for mode in ("auto", "off"):
                out = os.path.join(tmp, "%d_%s.mp4" % (rate, mode))
                t0 = time.time()
                r = subprocess.run([a.shrink, src, "--target", str(target), "--crop", mode, "--json", "-o", out],
                                   capture_output=True, text=True)
                secs = time.time() - t0
                if r.returncode:
                    sys.exit("shrink --crop %s at %d kb/s: exit %d: %s" % (mode, rate, r.returncode, r.stderr[-500:]))
                j = json.loads(r.stdout.splitlines()[0])
                ow, oh, _ = probe(out)
                res[mode] = (out, ow, oh, j, secs)
            aw, ah = res["auto"][1], res["auto"][2]
            for mode in ("auto", "off"):
                out, ow, oh, j, secs = res[mode]
                if mode == "auto":
                    c = j["crop"] or {"width": sw, "height": sh, "x": 0, "y": 0}
                    if (c["width"], c["height"], c["x"], c["y"]) != PIC:
                        print("# note: auto crop %s, not the expected %s" % (c, PIC))
                    crop_src = (c["width"], c["height"], c["x"], c["y"])
                    crop_out = (ow, oh, 0, 0)
                else:
                    crop_src = PIC
                    # the picture's rows of the output (the source's 88..632 of 720), even
                    y0 = round(PIC[3] * oh / sh / 2) * 2
                    y1 = round((PIC[3] + PIC[1]) * oh / sh / 2) * 2
                    crop_out = (ow, y1 - y0, 0, y0)
                y, al = ssim(src, out, crop_src, crop_out, aw, ah)
                cj = j["crop"]
                cs = "%dx%d+%d+%d" % (cj["width"], cj["height"], cj["x"], cj["y"]) if cj else "none"
                print("%-6d %-5s %9d %9d %-11s %-16s %8.5f %8.5f %6.1f" % (rate, mode, target, j["bytes"],
                                                                       "%dx%d" % (ow, oh), cs, y, al, secs))
                sys.stdout.flush()
    print("# load after %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
