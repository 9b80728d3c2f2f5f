#!/usr/bin/env python3
"""Faces get the bits (issue 16): --roi auto against --roi off at the same size.

Each clip of --faces and --nofaces (in --media) is shrunk to what each --rates
rate makes over its length (target bytes = rate x duration / 8, as
bench_crop.py), once with --a-args (default "--roi auto") and once with
--b-args (default "--roi off"), both with --force --json and nothing else
changed. The two outputs are then measured against the source, independently of
shrink's own code:

Face regions. OpenCV's Haar cascade (haarcascade_frontalface_alt2.xml, from
Debian's opencv-data; detectMultiScale on the histogram-equalised luma, scale
factor 1.1, 5 neighbours, faces from 24 px) runs on every SOURCE frame at the
source's full coded size (a webcam inset's face is ~66 px of 1280x720: at half
size the cascade missed it), the frames taken at the source's average rate
(setpts=PTS-STARTPTS,fps=R: the same frame grid as the comparison below). A box
is kept only if one overlapping it (IoU >= 0.3) is found in at least 2 of the 4
nearest frames: one-frame false alarms go. (alt2, not _default: on 40 sampled
highway frames _default "found" faces in 16, alt2 in 5, before that filter.)
Clips listed without faces are searched on every 5th frame only
(--nofaces-detect-every), to show the cascade finds none or few. Found once per
clip, used for every rate and both runs (--cache keeps them between runs).

Comparison. Each output is compared at a common size, W x H = the larger (by
area) of the two outputs' sizes (the output's own size when, as usual, both are
the same): the source is cropped to what the output shows (its JSON "crop",
else whole), scaled to W x H (bicubic); the output is scaled to W x H (bicubic,
a no-op at its own size) and brought to the source's rate (fps=R after
setpts=PTS-STARTPTS: a dropped frame is held, as a player shows it). Source
frame i is paired with output frame i; an output that ends a frame early shows
its last frame to the end (as FFmpeg's framesync does). The face boxes are clipped to the crop
and scaled to W x H; boxes under 8x8 there are left out (and counted).

SSIM. Luma SSIM computed in numpy exactly as FFmpeg's ssim filter does (8x8
windows on a 4-pixel grid, its constants; a frame's score is the mean of its
windows; a clip's is the mean of its frames'). "whole" is every frame's whole
picture; "face" is, per frame with at least one usable box, the mean of the
windows inside its boxes, then the mean over those frames (frames where the
cascade finds no face contribute nothing; their count is reported). Reported in
dB: -10 log10(1 - SSIM). --validate also runs FFmpeg's ssim filter on the same
two frame chains, whole and on a fixed centre box, and prints both numbers: they
agree to < 1e-6. (Not at every width: FFmpeg 5.1's x86 SIMD ssim miscounts a
row of windows whose count is 1 mod 4, i.e. picture widths 4(4k+2) to 4(4k+2)+3
such as 120, 248, 376, 426, 1080: a 120x120 box scored 0.831445 against 0.823103
with -cpuflags 0 and numpy's 0.823068. The centre box avoids those widths; the
face boxes are computed in numpy, so they are not affected.)

Costs. Wall seconds, CPU seconds and peak RSS of each shrink run (os.wait4's
rusage of that child alone). Output sizes against the target. For clips without
faces: whether the two outputs are byte-identical, else the SSIM of one against
the other.

Floors (issue 16), marked in the table, never used to change a number: with
faces, face SSIM A - B >= +0.5 dB and whole SSIM A - B >= -0.2 dB; without,
nothing measurable changes (byte-identical; B runs a second time to show its
own run-to-run difference, --no-baseline skips that) and A costs < 5% more
wall time; every run <= target and < 512 MiB peak RSS. Detection's share of a job (<= 10%)
is not visible from outside shrink: the table gives A/B wall time, an upper
bound on it where A's extra work is the detection. Seconds on a shared machine
are noisy (--repeat N keeps each run's fastest of N).

Needs python3-opencv and opencv-data (tests/deps.sh bench); run by another
interpreter without cv2 (a pyenv shim), the script re-runs itself with
/usr/bin/python3.

  tests/bench/bench_faces.py [--shrink build/shrink] [--media DIR] [--rates 100,20]
      [--faces a.mp4,b.mp4] [--nofaces c.mp4] [--a-args "--roi auto"] [--b-args "--roi off"]
      [--a-name auto] [--b-name off] [--out docs/BENCHMARKS.md] [--repeat N] [--validate]
      [--detect-only] [--detect-every N] [--nofaces-detect-every N] [--cache DIR] [--keep DIR]
      [--note TEXT]
  stand-in (before --roi): --a-args "--codec x264" --b-args "--codec svt-av1" --validate
SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import sys

try:
    import cv2
    import numpy as np
except ImportError:
    if (os.path.exists("/usr/bin/python3") and not os.environ.get("BENCH_FACES_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")):
        os.environ["BENCH_FACES_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("bench_faces: no OpenCV for Python (tests/deps.sh bench, or apt-get install python3-opencv "
          "opencv-data): skipped", file=sys.stderr)
    sys.exit(0)

import argparse
import json
import math
import platform
import re
import shlex
import shutil
import subprocess
import tempfile
import time

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"
FACES = "liveportrait_s18_720p.mp4,talkinghead_retalk4_700.mp4,screen_webcam_hello_720p.mp4,chaplin_bw_360p.mp4"
NOFACES = "tree_cinepak_240p.avi,highway_540p_60fps.mp4,bbb_360p_60s.mp4"
BEGIN, END = "<!-- bench_faces: begin -->", "<!-- bench_faces: end -->"
METHOD = """\
Generated by `tests/bench/bench_faces.py` (`make bench`; `BENCH_FACES=0` skips it). Each clip is shrunk
to rate x duration / 8 bytes twice, A (`--roi auto`) and B (`--roi off`), `--force --json`, one run
at a time. Face regions come from OpenCV's Haar cascade (`haarcascade_frontalface_alt2.xml`, Debian's
`python3-opencv` and `opencv-data`), not from shrink: every source frame at the source's full size
and rate (every 5th for the clips without faces), a box kept when it recurs in 2 of the 4 nearest frames. Both outputs are compared at the
larger of their two sizes (the same size as a rule): the source cropped as the output is (its JSON
`crop`) and scaled bicubic, the output scaled bicubic and held at the source's rate. Luma SSIM as
FFmpeg's `ssim` filter computes it (numpy, checked against the filter with `--validate`): "whole"
over every frame, "face" over the windows inside the boxes of the frames that have one (their count
is given), in dB = -10 log10(1 - SSIM). Time and peak RSS are each shrink run's own (wait4)."""
MIN_BOX = 8                      # an SSIM window; smaller boxes hold none


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,avg_frame_rate:format=duration", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    s = j["streams"][0]
    num, den = (int(x) for x in s.get("avg_frame_rate", "0/0").split("/"))
    return {"w": s["width"], "h": s["height"], "duration": float(j["format"]["duration"]),
            "rate": "%d/%d" % (num, den) if num and den else "25"}


class Frames:
    """The luma planes of `path` through the filter chain `vf` (ending at w x h), one by one."""

    def __init__(self, path, vf, w, h):
        self.w, self.h = w, h
        self.size = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-an", "-sn", "-vf",
                                   vf + ",format=yuv420p", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                                  stdout=subprocess.PIPE, stderr=self.err, bufsize=1 << 20)

    def __iter__(self):
        while True:
            b = self.p.stdout.read(self.size)
            if len(b) < self.size:
                return
            yield np.frombuffer(b, np.uint8, self.w * self.h).reshape(self.h, self.w)

    def close(self, check=True):
        self.p.stdout.close()
        rc = self.p.wait()
        self.err.seek(0)
        msg = self.err.read().decode(errors="replace").strip()
        self.err.close()
        if rc and check:
            sys.exit("bench_faces: ffmpeg failed (%d): %s" % (rc, msg[-600:]))


def ssim_windows(a, b):
    """FFmpeg's vf_ssim on one 8-bit plane: the SSIM of every 8x8 window on a 4-pixel grid."""
    bh, bw = a.shape[0] // 4, a.shape[1] // 4
    if bh < 2 or bw < 2:
        return np.zeros(0)
    a = a[:bh * 4, :bw * 4].astype(np.int64)
    b = b[:bh * 4, :bw * 4].astype(np.int64)

    def blocks(x):
        return x.reshape(bh, 4, bw, 4).sum(axis=(1, 3))

    def windows(x):
        return x[:-1, :-1] + x[1:, :-1] + x[:-1, 1:] + x[1:, 1:]

    s1, s2 = windows(blocks(a)), windows(blocks(b))
    ss, s12 = windows(blocks(a * a + b * b)), windows(blocks(a * b))
    c1 = int(.01 * .01 * 255 * 255 * 64 + .5)
    c2 = int(.03 * .03 * 255 * 255 * 64 * 63 + .5)
    var = ss * 64 - s1 * s1 - s2 * s2
    cov = s12 * 64 - s1 * s2
    return ((2 * s1 * s2 + c1) * (2 * cov + c2) / ((s1 * s1 + s2 * s2 + c1) * (var + c2))).ravel()


def db(s):
    if s != s:
        return float("nan")
    return float("inf") if s >= 1 else -10 * math.log10(1 - s)


def iou(p, q):
    x0, y0 = max(p[0], q[0]), max(p[1], q[1])
    x1, y1 = min(p[0] + p[2], q[0] + q[2]), min(p[1] + p[3], q[1] + q[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / float(p[2] * p[3] + q[2] * q[3] - inter)


def steady(raw, step):
    """Boxes seen again (IoU >= 0.3) in at least 2 of the 4 nearest detected frames (2 each side):
    the cascade's one-frame false alarms (road signs, foliage) go, a face that stays is kept."""
    det = list(range(0, len(raw), step))
    out = [[] for _ in raw]
    for k, i in enumerate(det):
        near = [raw[j] for j in det[max(0, k - 2):k] + det[k + 1:k + 3]]
        out[i] = [b for b in raw[i] if sum(1 for fb in near if any(iou(b, c) >= 0.3 for c in fb)) >= 2]
    return out


def detect(src, info, cache, step):
    """Per source frame (at the source's rate), the cascade's face boxes (x, y, w, h) at full size,
    on every step-th frame (the others: none), raw and steady()."""
    key = os.path.join(cache, "%s.%d.faces.json" % (os.path.basename(src), step)) if cache else None
    if key and os.path.exists(key):
        with open(key) as f:
            j = json.load(f)
        if j.get("size") == os.path.getsize(src) and j.get("cascade") == CASCADE:
            return j["raw"], steady(j["raw"], step), j["seconds"]
    cc = cv2.CascadeClassifier(CASCADE)
    if cc.empty():
        sys.exit("bench_faces: cannot load %s (apt-get install opencv-data)" % CASCADE)
    t0 = time.monotonic()
    fr = Frames(src, "setpts=PTS-STARTPTS,fps=%s" % info["rate"], info["w"], info["h"])
    raw = []
    for i, y in enumerate(fr):
        found = []
        if i % step == 0:
            found = cc.detectMultiScale(cv2.equalizeHist(y), scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        raw.append([[int(v) for v in b] for b in found])
    fr.close()
    secs = time.monotonic() - t0
    if key:
        os.makedirs(cache, exist_ok=True)
        with open(key, "w") as f:
            json.dump({"size": os.path.getsize(src), "cascade": CASCADE, "seconds": secs, "raw": raw}, f)
    return raw, steady(raw, step), secs


def map_boxes(boxes, crop, w, h):
    """Source boxes into the compared W x H picture: clipped to the crop, scaled, >= MIN_BOX kept."""
    cw, ch, cx, cy = crop
    sx, sy = w / cw, h / ch
    out, small = [], 0
    for bx, by, bw, bh in boxes:
        x0, y0 = max(bx, cx), max(by, cy)
        x1, y1 = min(bx + bw, cx + cw), min(by + bh, cy + ch)
        if x1 <= x0 or y1 <= y0:
            continue
        X0, Y0 = int(round((x0 - cx) * sx)), int(round((y0 - cy) * sy))
        X1, Y1 = min(w, int(round((x1 - cx) * sx))), min(h, int(round((y1 - cy) * sy)))
        if X1 - X0 < MIN_BOX or Y1 - Y0 < MIN_BOX:
            small += 1
            continue
        out.append((X0, Y0, X1, Y1))
    return out, small


def compare(src, info, out, crop, w, h, boxes, fixed=None):
    """Whole and face-region SSIM of `out` against the source (module docstring), and frame counts."""
    r = info["rate"]
    cw, ch, cx, cy = crop
    fs = Frames(src, "setpts=PTS-STARTPTS,fps=%s,crop=%d:%d:%d:%d,scale=%d:%d:flags=bicubic"
                % (r, cw, ch, cx, cy, w, h), w, h)
    fo = Frames(out, "setpts=PTS-STARTPTS,scale=%d:%d:flags=bicubic,fps=%s" % (w, h, r), w, h)
    whole, face, fixed_s = [], [], []
    small = boxed = held = 0
    outs, b, ended = iter(fo), None, False
    for i, a in enumerate(fs):
        # an output that ends early shows its last frame to the source's end (as FFmpeg's framesync)
        if not ended:
            nb = next(outs, None)
            ended = nb is None
            b = b if ended else nb
        if b is None:
            break
        held += ended
        whole.append(ssim_windows(a, b).mean())
        if fixed:
            x, y, fw, fh = fixed
            fixed_s.append(ssim_windows(a[y:y + fh, x:x + fw], b[y:y + fh, x:x + fw]).mean())
        bx, sm = map_boxes(boxes[i] if i < len(boxes) else [], crop, w, h)
        small += sm
        if bx:
            v = np.concatenate([ssim_windows(a[y0:y1, x0:x1], b[y0:y1, x0:x1]) for x0, y0, x1, y1 in bx])
            if v.size:
                face.append(v.mean())
                boxed += len(bx)
    fs.close()
    fo.close(check=ended)        # with frames left over (longer than the source) it dies of EPIPE
    return {"whole": float(np.mean(whole)) if whole else float("nan"),
            "face": float(np.mean(face)) if face else float("nan"),
            "frames": len(whole), "held": held, "face_frames": len(face), "boxes": boxed, "small": small,
            "fixed": float(np.mean(fixed_s)) if fixed_s else float("nan")}


def ffmpeg_ssim(src, info, out, crop, w, h, box=None):
    """FFmpeg's own ssim filter on the same two chains (optionally both cropped to box): SSIM Y."""
    r = info["rate"]
    cw, ch, cx, cy = crop
    tail = ",crop=%d:%d:%d:%d" % box if box else ""
    fg = ("[0:v]setpts=PTS-STARTPTS,fps=%s,crop=%d:%d:%d:%d,scale=%d:%d:flags=bicubic,format=yuv420p%s[s];"
          "[1:v]setpts=PTS-STARTPTS,scale=%d:%d:flags=bicubic,fps=%s,format=yuv420p%s[o];[s][o]ssim"
          % (r, cw, ch, cx, cy, w, h, tail, w, h, r, tail))
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", src, "-i", out, "-filter_complex", fg,
                        "-an", "-f", "null", "-"], capture_output=True, text=True)
    m = re.search(r"SSIM Y:([0-9.]+)", p.stderr)
    return float(m.group(1)) if m else float("nan")


def ssim_between(x, y, w, h):
    """SSIM Y of one output against the other (both at w x h, same frame grid): FFmpeg's filter."""
    fg = ("[0:v]setpts=PTS-STARTPTS,scale=%d:%d:flags=bicubic,format=yuv420p[a];"
          "[1:v]setpts=PTS-STARTPTS,scale=%d:%d:flags=bicubic,format=yuv420p[b];[a][b]ssim" % (w, h, w, h))
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", x, "-i", y, "-filter_complex", fg,
                        "-an", "-f", "null", "-"], capture_output=True, text=True)
    m = re.search(r"SSIM Y:([0-9.]+)", p.stderr)
    return float(m.group(1)) if m else float("nan")


def run_shrink(cmd, tmp):
    """One shrink run: (exit code, JSON or None, stderr tail, wall s, CPU s, peak RSS MiB)."""
    with open(os.path.join(tmp, "stdout"), "w+") as so, open(os.path.join(tmp, "stderr"), "w+") as se:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
        _, status, ru = os.wait4(p.pid, 0)      # this child's own rusage, not the script's others
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0)
        se.seek(0)
        lines = so.read().strip().splitlines()
        err = se.read().strip()
    js = None
    try:
        js = json.loads(lines[-1])
    except (IndexError, ValueError):
        pass
    return p.returncode, js, err[-400:], wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def files_equal(x, y):
    if os.path.getsize(x) != os.path.getsize(y):
        return False
    with open(x, "rb") as f, open(y, "rb") as g:
        while True:
            a, b = f.read(1 << 20), g.read(1 << 20)
            if a != b:
                return False
            if not a:
                return True


def f2(x):
    return "%.2f" % x if x == x else "-"


def mark(ok):
    return "✓" if ok else "✗"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shrink", default="build/shrink")
    ap.add_argument("--media", default=os.environ.get("SHARED_MEDIA", "../shared/media"))
    ap.add_argument("--rates", default="100,20", help="kb/s, comma-separated")
    ap.add_argument("--faces", default=FACES, help="clips with faces (comma-separated; '' for none)")
    ap.add_argument("--nofaces", default=NOFACES, help="clips without faces (comma-separated; '' for none)")
    ap.add_argument("--a-args", default="--roi auto", help="shrink options of run A")
    ap.add_argument("--b-args", default="--roi off", help="shrink options of run B")
    ap.add_argument("--a-name", default="", help="A's name in the table (default: its options)")
    ap.add_argument("--b-name", default="", help="B's name in the table (default: its options)")
    ap.add_argument("--out", default="", help="put the table between %s and %s of this file "
                    "(appended when absent)" % (BEGIN, END))
    ap.add_argument("--note", default="", help="a line put above the table (e.g. 'stand-in: ...')")
    ap.add_argument("--repeat", type=int, default=1, help="run each shrink N times, keep the fastest")
    ap.add_argument("--validate", action="store_true", help="also FFmpeg's ssim filter, whole and a centre box")
    ap.add_argument("--no-baseline", action="store_true",
                    help="without faces, do not run B a second time (its run-to-run difference)")
    ap.add_argument("--detect-only", action="store_true", help="only the cascade's counts per clip")
    ap.add_argument("--cache", default="", help="keep the cascade's boxes here between runs")
    ap.add_argument("--detect-every", type=int, default=1, help="cascade on every N-th frame of clips with faces")
    ap.add_argument("--nofaces-detect-every", type=int, default=5,
                    help="cascade on every N-th frame of clips without faces (only to show it finds none or few)")
    ap.add_argument("--keep", default="", help="keep the outputs in this directory")
    a = ap.parse_args()
    if not os.path.isdir(a.media):
        print("bench_faces: %s not found: skipped" % a.media, file=sys.stderr)
        return 0
    an, bn = a.a_name or a.a_args, a.b_name or a.b_args
    clips = [(c, True) for c in a.faces.split(",") if c] + [(c, False) for c in a.nofaces.split(",") if c]
    rates = [float(x) for x in a.rates.split(",") if x]
    tmp = a.keep or tempfile.mkdtemp(prefix="shrink-bench-faces.")
    os.makedirs(tmp, exist_ok=True)
    load0 = os.getloadavg()
    print("# A: %s; B: %s; load %s" % (a.a_args, a.b_args, " ".join("%.2f" % x for x in load0)), flush=True)
    det_lines, rows, checks = [], [], []
    try:
        for clip, with_faces in clips:
            src = os.path.join(a.media, clip)
            if not os.path.exists(src):
                print("# %s: missing, skipped" % clip, flush=True)
                continue
            info = probe(src)
            step = a.detect_every if with_faces else a.nofaces_detect_every
            raw, boxes, dsecs = detect(src, info, a.cache, step)
            nraw = sum(1 for b in raw if b)
            nf = sum(1 for b in boxes if b)
            sizes = [bw for fb in boxes for _, _, bw, _ in fb]
            span = "%d-%d" % (min(sizes), max(sizes)) if sizes else "-"
            det_lines.append("| %s | %s | %dx%d | %d | %d / %d | %d | %d | %s | %.1f |" % (
                clip, "yes" if with_faces else "no", info["w"], info["h"], step, nf, len(boxes), nraw,
                sum(1 for b in boxes if len(b) > 1), span, dsecs))
            print("# %s %dx%d %.2f s at %s fps: faces in %d of %d frames (cascade on every %d; %d before the "
                  "steadiness filter; boxes %s px; %d frames with 2+; cascade %.1f s)"
                  % (clip, info["w"], info["h"], info["duration"], info["rate"], nf, len(boxes), step, nraw, span,
                     sum(1 for b in boxes if len(b) > 1), dsecs), flush=True)
            if a.detect_only:
                continue
            for rate in rates:
                target = int(rate * 1000 * info["duration"] / 8)
                res = {}
                runs = [("A", a.a_args), ("B", a.b_args)]
                if not with_faces and not a.no_baseline:
                    runs.append(("B2", a.b_args))     # B again: what "nothing changes" is measured against
                for tag, extra in runs:
                    out = os.path.join(tmp, "%s_%g_%s.mp4" % (os.path.splitext(clip)[0], rate, tag))
                    walls = []
                    for _ in range(max(1, a.repeat)):
                        r = run_shrink([a.shrink, src, "--target", str(target), "--force", "--json", "-o", out]
                                       + shlex.split(extra), tmp)
                        walls.append(r[3])
                    # the file on disk is the last run's: its JSON, the fastest run's seconds
                    res[tag] = (out,) + r[:3] + (min(walls),) + r[4:]
                    rc, js, err, wall, cpu, rss = res[tag][1:]
                    print("%-32s %5g kb/s %s: exit %d, %s bytes of %d, %s, %.1f s wall, %.1f s CPU, %.0f MiB%s"
                          % (clip, rate, tag, rc, js.get("bytes") if js else "-", target,
                             "%s %dx%d" % (js.get("encoder"), js.get("width") or 0, js.get("height") or 0) if js else err,
                             wall, cpu, rss, ("; roi " + json.dumps(js["roi"])) if js and "roi" in js else ""),
                          flush=True)
                row = {"clip": clip, "faces": with_faces, "rate": rate, "target": target, "runs": {}}
                if any(res[t][1] or not res[t][2] or not os.path.exists(res[t][0]) for t in "AB"):
                    row["error"] = " ".join("; ".join("%s: exit %d %s" % (t, res[t][1], (res[t][2] or {}).get("error") or res[t][3])
                                             for t in "AB" if res[t][1] or not res[t][2]).split())
                    rows.append(row)
                    continue
                dims = {}
                for t in "AB":
                    o = probe(res[t][0])
                    dims[t] = (o["w"], o["h"])
                w, h = max(dims.values(), key=lambda d: (d[0] * d[1], d == dims["A"]))
                fixed = [w // 4 // 2 * 2, h // 4 // 2 * 2, w // 2 // 2 * 2, h // 2 // 2 * 2]
                if (fixed[2] // 4 - 1) % 4 == 1:
                    fixed[2] -= 4       # FFmpeg 5.1's x86 ssim is wrong at these widths (docstring)
                for t in "AB":
                    out, rc, js, err, wall, cpu, rss = res[t]
                    c = js.get("crop")
                    crop = (c["width"], c["height"], c["x"], c["y"]) if c else (info["w"], info["h"], 0, 0)
                    m = compare(src, info, out, crop, w, h, boxes, fixed=(fixed[0], fixed[1], fixed[2], fixed[3])
                                if a.validate else None)
                    m.update({"bytes": js["bytes"], "size": "%dx%d" % dims[t], "enc": js.get("encoder") or "?",
                              "fps": js.get("fps"), "crop": crop, "wall": wall, "cpu": cpu, "rss": rss})
                    if a.validate:
                        fw = ffmpeg_ssim(src, info, out, crop, w, h)
                        fb = ffmpeg_ssim(src, info, out, crop, w, h,
                                         box=(fixed[2], fixed[3], fixed[0], fixed[1]))
                        checks.append((clip, rate, t, m["whole"], fw, m["fixed"], fb))
                        print("#   validate %s %g %s at %dx%d: whole numpy %.6f ffmpeg %.6f (diff %.2g); box %dx%d+%d+%d "
                              "numpy %.6f ffmpeg %.6f (diff %.2g)" % (clip, rate, t, w, h, m["whole"], fw, m["whole"] - fw,
                                                                      fixed[2], fixed[3], fixed[0], fixed[1], m["fixed"], fb,
                                                                      m["fixed"] - fb), flush=True)
                    row["runs"][t] = m
                    print("#   %s at %dx%d: whole %.5f (%.2f dB), face %.5f (%.2f dB) in %d of %d frames (%d boxes, %d too small; "
                          "output's last frame held for %d)" % (t, w, h, m["whole"], db(m["whole"]), m["face"], db(m["face"]),
                                                               m["face_frames"], m["frames"], m["boxes"], m["small"], m["held"]),
                          flush=True)
                row["at"] = "%dx%d" % (w, h)
                row["identical"] = files_equal(res["A"][0], res["B"][0])
                row["ab"] = 1.0 if row["identical"] else ssim_between(res["A"][0], res["B"][0], w, h)
                if "B2" in res and not res["B2"][1] and os.path.exists(res["B2"][0]):
                    row["b2_identical"] = files_equal(res["B"][0], res["B2"][0])
                    row["bb"] = 1.0 if row["b2_identical"] else ssim_between(res["B"][0], res["B2"][0], w, h)
                    row["b2_bytes"] = res["B2"][2]["bytes"]
                rows.append(row)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    md = table(a, an, bn, det_lines, rows, checks, load0)
    print(md)
    if a.out:
        put(a.out, md)
    return 0


def table(a, an, bn, det_lines, rows, checks, load0):
    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0].split(" Copyright")[0]
    L = [BEGIN, "", "## Issue 16: faces get the bits (`--roi`)", "", METHOD, ""]
    if a.note:
        L += ["**%s**" % a.note, ""]
    L += ["`tests/bench/bench_faces.py` (the method in full: its docstring), %s; %s; OpenCV %s; "
          "%s, %d cores; load average %.1f at the start, %.1f at the end. A = `%s`, B = `%s`."
          % (time.strftime("%Y-%m-%d"), ff, cv2.__version__, platform.node(), os.cpu_count(), load0[0],
             os.getloadavg()[0], a.a_args, a.b_args), ""]
    L += ["Faces found by the cascade on the source's frames:", "",
          "| clip | listed with faces | source | cascade on every N-th frame | frames with faces / frames "
          "| before the steadiness filter | frames with 2+ faces | box widths px | cascade s |",
          "|---|---|---|---|---|---|---|---|---|"] + det_lines + [""]
    if not a.detect_only:
        L += ["SSIM in dB (-10 log10(1 - SSIM)), luma; \"face\" over the frames with a usable box (count given); "
              "Δ = A - B. Marks: the issue's floors (faces: Δface >= +0.5 dB, Δwhole >= -0.2 dB; "
              "without faces: byte-identical, A/B time < 1.05; all: bytes <= target, peak RSS < 512 MiB; "
              "with faces, A/B time <= 1.10 as the bound on detection's share). Time: wall and user+system CPU "
              "(on a loaded machine the wall ratio of two identical runs was 1.10, their CPU ratio 1.00).", "",
              "| clip | kb/s | target | %s bytes | %s bytes | size (compared at) | %s: face dB | whole dB | %s: face dB | whole dB "
              "| Δface dB | Δwhole dB | face frames | A s (CPU s) | B s (CPU s) | A/B time | peak RSS MiB A / B | same output |" % (an, bn, an, bn),
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if "error" in r:
                L.append("| %s | %g | %d | failed: %s |||||||||||||||" % (r["clip"], r["rate"], r["target"], r["error"]))
                continue
            A, B = r["runs"]["A"], r["runs"]["B"]
            dface = db(A["face"]) - db(B["face"])
            dwhole = db(A["whole"]) - db(B["whole"])
            ratio = A["wall"] / B["wall"] if B["wall"] else float("nan")
            cratio = A["cpu"] / B["cpu"] if B["cpu"] else float("nan")
            fits = A["bytes"] <= r["target"] and B["bytes"] <= r["target"]
            mem = max(A["rss"], B["rss"]) < 512
            if r["faces"]:
                fmark = " " + mark(dface >= 0.5) if dface == dface else ""
                wmark = " " + mark(dwhole >= -0.2)
                tmark = " " + mark(ratio <= 1.10)
                cmark = " " + mark(cratio <= 1.10)
                same = "yes" if r["identical"] else "no"
            else:
                fmark, wmark = "", ""
                tmark = " " + mark(ratio < 1.05)
                cmark = " " + mark(cratio < 1.05)
                same = ("yes ✓" if r["identical"] else "no ✗ (A vs B %.2f dB)" % db(r["ab"]))
                if "b2_identical" in r:
                    same += ("; B again: same" if r["b2_identical"] else
                             "; B again: %d bytes, B vs B again %.2f dB" % (r["b2_bytes"], db(r["bb"])))
            sz = A["size"] if A["size"] == B["size"] else "%s / %s" % (A["size"], B["size"])
            L.append("| %s | %g | %d | %d | %d %s | %s (%s) | %s | %s | %s | %s | %s%s | %+.2f%s | %d / %d | "
                     "%.1f (%.1f) | %.1f (%.1f) | %.2f%s (CPU %.2f%s) | %.0f / %.0f %s | %s |"
                     % (r["clip"], r["rate"], r["target"], A["bytes"], B["bytes"], mark(fits), sz, r["at"],
                        f2(db(A["face"])), f2(db(A["whole"])), f2(db(B["face"])), f2(db(B["whole"])),
                        "%+.2f" % dface if dface == dface else "-", fmark, dwhole, wmark,
                        A["face_frames"], A["frames"], A["wall"], A["cpu"], B["wall"], B["cpu"], ratio, tmark, cratio, cmark,
                        A["rss"], B["rss"], mark(mem), same))
        if checks:
            L += ["", "SSIM checked against FFmpeg's ssim filter on the same frames (numpy - ffmpeg): whole frame "
                  "max |diff| %.2g, fixed centre box max |diff| %.2g over %d outputs."
                  % (max(abs(c[3] - c[4]) for c in checks), max(abs(c[5] - c[6]) for c in checks), len(checks))]
    L += ["", END]
    return "\n".join(L) + "\n"


def put(path, md):
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + md.rstrip("\n") + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + md
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
