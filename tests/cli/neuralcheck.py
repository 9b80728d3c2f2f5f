#!/usr/bin/env python3
"""Checks for tests/cli/test_neural.sh (the learned codec, .shn, shrink decode).
Prints one line per failed assertion and exits 1 if any; not a test itself.

  neuralcheck.py decoded OUT DJSON SRC_DUR [--ejson EJSON] [--extra S] [--dar D]
      OUT (what `shrink decode --json` wrote, DJSON its JSON) as ffprobe sees it:
      one video stream, upright, the JSON's width x height (even), frames =
      the JSON's = round(duration x fps), durations (the file's, the stream's,
      the JSON's) within one frame + S of SRC_DUR (the source video's); the
      JSON's bytes the file's, its realtime = duration / render_seconds.
      With EJSON (the encode's --json): the same picture and rate. With D:
      display aspect within 3% of D.
  neuralcheck.py keys A B      the two JSON objects have the same keys
  neuralcheck.py upright OUT SRC
      OUT's picture is SRC's as shown (rotation applied), not turned over: tiny
      grey frames of OUT correlate better with SRC's than with SRC's turned 180.
  neuralcheck.py dar SRC EJSON  the display aspect the encode should keep (the
      crop's if any, SAR and rotation applied): printed

SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probe  # noqa: E402  (tests/cli/probe.py)


def load(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    if len(lines) != 1:
        raise ValueError("%s: %d lines, expected one JSON object" % (path, len(lines)))
    return json.loads(lines[0])


def y4m_frames(path):
    d = probe.ffprobe_json(["-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames,width,height,codec_name", path])
    s = d["streams"][0]
    return int(s["nb_read_frames"]), int(s["width"]), int(s["height"])


def cmd_decoded(args):
    out, djson, src_dur = args[0], args[1], float(args[2])
    ejson, extra, dar = None, 0.0, None
    rest = args[3:]
    while rest:
        k, v = rest[0], rest[1]
        rest = rest[2:]
        if k == "--ejson":
            ejson = v
        elif k == "--extra":
            extra = float(v)
        elif k == "--dar":
            dar = float(v)
        else:
            raise SystemExit("decoded: unknown option " + k)
    errs = []
    e = errs.append
    try:
        d = load(djson)
    except (ValueError, OSError) as ex:
        print("decode --json: %s" % ex)
        return 1
    for k in ("input", "output", "width", "height", "fps", "frames", "duration", "bytes", "seconds",
              "render_seconds", "realtime"):
        if k not in d:
            e("decode JSON lacks %s" % k)
    if errs:
        print("\n".join(errs))
        return 1
    fps = float(d["fps"])
    frame = 1.0 / fps
    tol = frame + extra + probe.EPS
    if d["bytes"] != os.path.getsize(out):
        e("decode JSON bytes %r, the file has %d" % (d["bytes"], os.path.getsize(out)))
    if d["frames"] != round(d["duration"] * fps):
        e("decode JSON frames %d != round(duration %.3f x fps %.6g)" % (d["frames"], d["duration"], fps))
    if abs(d["duration"] - src_dur) > tol:
        e("decode JSON duration %.3f vs source %.3f (> %.3f)" % (d["duration"], src_dur, tol))
    if d["render_seconds"] <= 0 or d["render_seconds"] > d["seconds"] + 0.01:
        e("render_seconds %r not in (0, seconds %r]" % (d["render_seconds"], d["seconds"]))
    else:
        # duration is printed to the millisecond, render_seconds to the microsecond, realtime
        # to 0.01: the quotient of the printed figures is only known within their rounding.
        rs, dur = d["render_seconds"], d["duration"]
        lo = (dur - 0.0005) / (rs + 0.0000005) - 0.005
        hi = (dur + 0.0005) / max(rs - 0.0000005, 1e-9) + 0.005
        if not lo <= d["realtime"] <= hi:
            e("realtime %r outside duration / render_seconds = %.3f..%.3f" % (d["realtime"], lo, hi))
    if d["width"] % 2 or d["height"] % 2 or d["width"] < 2 or d["height"] < 2:
        e("decode JSON picture %sx%s not even" % (d["width"], d["height"]))
    if ejson:
        j = load(ejson)
        if (j.get("width"), j.get("height")) != (d["width"], d["height"]):
            e("encode JSON %sx%s, decode JSON %sx%s" % (j.get("width"), j.get("height"), d["width"], d["height"]))
        if not isinstance(j.get("fps"), (int, float)) or abs(j["fps"] - fps) > 0.001:
            e("encode JSON fps %r, decode JSON %r" % (j.get("fps"), fps))
        if not isinstance(j.get("duration"), (int, float)) or abs(j["duration"] - d["duration"]) > 0.002:
            e("encode JSON duration %r, decode JSON %r" % (j.get("duration"), d["duration"]))

    if out.lower().endswith(".y4m"):
        n, w, h = y4m_frames(out)
        if n != d["frames"]:
            e("ffprobe reads %d frames from the y4m, the JSON says %d" % (n, d["frames"]))
        if (w, h) != (d["width"], d["height"]):
            e("y4m %dx%d, JSON %dx%d" % (w, h, d["width"], d["height"]))
        # 4:2:0, nothing else: the header line, then FRAME and the planes
        with open(out, "rb") as f:
            head = f.readline()
        want = len(head) + n * (6 + w * h * 3 // 2)
        if os.path.getsize(out) != want:
            e("y4m is %d bytes, %d frames of %dx%d 4:2:0 make %d" % (os.path.getsize(out), n, w, h, want))
    else:
        o = probe.info(out)
        v = o["video"]
        if not v or o["n_video"] != 1 or o["audio"] is not None:
            e("streams: %d video, %s audio" % (o["n_video"], "an" if o["audio"] else "no"))
        else:
            if v["codec"] != "h264":
                e("video codec %s, not h264" % v["codec"])
            if (v["width"], v["height"]) != (d["width"], d["height"]):
                e("file %dx%d, JSON %dx%d" % (v["width"], v["height"], d["width"], d["height"]))
            if v["rotation"] % 360:
                e("a display rotation of %d: the picture should be upright itself" % v["rotation"])
            if v["packets"] != d["frames"]:
                e("%d video frames in the file, the JSON says %d" % (v["packets"], d["frames"]))
            if v["packets"] != round(d["duration"] * fps):
                e("%d video frames, round(duration x fps) = %d" % (v["packets"], round(d["duration"] * fps)))
            for what, t in (("file", o["duration"]), ("stream", v["duration"])):
                if t is None or abs(t - src_dur) > tol:
                    e("%s duration %s vs source %.3f (> %.3f)" % (what, t, src_dur, tol))
            if dar and abs(v["dar"] / dar - 1) > 0.03:
                e("display aspect %.4f, the source's %.4f" % (v["dar"], dar))
            err = probe.decode_errors(out)
            if err:
                e("ffmpeg decode reported errors: %s" % err)
    if errs:
        print("\n".join(errs))
        return 1
    return 0


def cmd_keys(a, b):
    ka, kb = set(load(a)), set(load(b))
    if ka != kb:
        print("keys only in the first: %s; only in the second: %s" % (sorted(ka - kb), sorted(kb - ka)))
        return 1
    return 0


def grey(path, flip=False):
    vf = "scale=32:18:flags=area,format=gray" + (",hflip,vflip" if flip else "")
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vf", vf, "-f", "rawvideo", "-"],
                       capture_output=True, stdin=subprocess.DEVNULL)
    return p.stdout


def corr(a, b):
    n = min(len(a), len(b))
    if n == 0:
        return 0.0
    a, b = a[:n], b[:n]
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    sa = sum((x - ma) ** 2 for x in a)
    sb = sum((y - mb) ** 2 for y in b)
    return sab / ((sa * sb) ** 0.5 or 1)


def cmd_upright(out, src):
    o = grey(out)
    up, over = corr(o, grey(src)), corr(o, grey(src, flip=True))
    if not up > over + 0.1:
        print("the picture correlates %.3f with the source as shown, %.3f with it turned over" % (up, over))
        return 1
    return 0


def cmd_dar(src, ejson):
    j = load(ejson)
    v = probe.info(src)["video"]
    sar = float(probe.ratio(v["sar"]) or 1)
    crop = j.get("crop")
    w, h = (crop["width"], crop["height"]) if crop else (v["width"], v["height"])
    # the crop is of the picture as displayed; the coded one turns with the rotation
    if not crop and v["rotation"] % 180:
        w, h, sar = h, w, 1 / sar
    print("%.6f" % (w * sar / h))
    return 0


def main():
    a = sys.argv[1:]
    if a and a[0] == "decoded":
        return cmd_decoded(a[1:])
    if a and a[0] == "keys" and len(a) == 3:
        return cmd_keys(a[1], a[2])
    if a and a[0] == "upright" and len(a) == 3:
        return cmd_upright(a[1], a[2])
    if a and a[0] == "dar" and len(a) == 3:
        return cmd_dar(a[1], a[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
