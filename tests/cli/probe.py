#!/usr/bin/env python3
"""Helpers for the CLI tests: parse shrink's --json output and probe media
with ffprobe/ffmpeg. Used by tests/cli/lib.sh; not a test itself.

  probe.py json_get FILE KEY[.SUB]   print one value of the single JSON object in FILE
                                     (exit 1: key missing; exit 2: FILE is not one JSON object)
  probe.py info FILE                 one JSON line: what ffprobe sees in FILE
  probe.py srcdur FILE               the video's duration measured from decoded frames
  probe.py check OUT SRC TARGET [--json FILE] [options]
                                     assert everything about one shrink output; prints one
                                     line per failed assertion, exits 1 if any

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import json
import os
import re
import subprocess
import sys
from fractions import Fraction

EPS = 0.002  # timestamp rounding (ms time bases, container rounding)


def ffprobe_json(args):
    p = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + args,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("ffprobe failed: " + p.stderr.strip()[:300])
    return json.loads(p.stdout or "{}")


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v


def ratio(s):
    """'16:9' / '30000/1001' -> Fraction, None when absent or zero."""
    if not s or s in ("N/A", "0/0", "0:1", "0:0"):
        return None
    s = s.replace(":", "/")
    try:
        f = Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return f if f > 0 else None


def load_one_json(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        raise ValueError("expected exactly one line of JSON on stdout, got %d" % len(lines))
    obj = json.loads(lines[0])
    if not isinstance(obj, dict):
        raise ValueError("JSON is not an object")
    return obj


def fmt_value(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def cmd_json_get(path, key):
    try:
        obj = load_one_json(path)
    except (ValueError, UnicodeDecodeError, OSError) as e:
        print("invalid JSON: %s" % e, file=sys.stderr)
        return 2
    cur = obj
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return 1
        cur = cur[part]
    print(fmt_value(cur))
    return 0


def rotation_of(stream):
    for sd in stream.get("side_data_list", []) or []:
        if "rotation" in sd:
            return int(round(float(sd["rotation"])))
    tag = (stream.get("tags") or {}).get("rotate")
    if tag is not None:
        return -int(tag)  # the tag is clockwise, side data counter-clockwise
    return 0


def info(path):
    """What ffprobe says about a file, plus a packet walk of the first video stream."""
    # One ffprobe for both (each start of it costs 0.1-0.2 s of CPU, its 200-odd
    # libraries loaded): the packets of every stream, the video's picked out below.
    d = ffprobe_json(["-show_format", "-show_streams", "-show_entries",
                      "packet=stream_index,pts_time,dts_time,duration_time,flags", path])
    fmt = d.get("format", {})
    streams = d.get("streams", [])
    vs = [s for s in streams if s.get("codec_type") == "video"
          and not (s.get("disposition") or {}).get("attached_pic")]
    aus = [s for s in streams if s.get("codec_type") == "audio"]
    out = {
        "format": fmt.get("format_name"),
        "duration": num(fmt.get("duration")),
        "size": os.path.getsize(path),
        "nb_streams": len(streams),
        "video": None,
        "audio": None,
        "n_audio": len(aus),
        "n_video": len(vs),
    }
    if vs:
        v = vs[0]
        w, h = int(v.get("width", 0)), int(v.get("height", 0))
        sar = ratio(v.get("sample_aspect_ratio")) or Fraction(1)
        rot = rotation_of(v)
        out["video"] = {
            "index": v.get("index"),
            "codec": v.get("codec_name"),
            "width": w,
            "height": h,
            "sar": str(sar),
            "dar": float(Fraction(w) * sar / h) if h else None,
            "rotation": rot,
            "r_frame_rate": v.get("r_frame_rate"),
            "avg_frame_rate": v.get("avg_frame_rate"),
            "duration": num(v.get("duration")),
            "start_time": num(v.get("start_time")),
        }
        # Packet walk: count and span (pts + duration) of the video packets (of
        # ffprobe's v:0: the first video stream, cover art or not).
        v0 = next(s.get("index") for s in streams if s.get("codec_type") == "video")
        pk = [p for p in d.get("packets", []) if p.get("stream_index") == v0]
        pk = [p for p in pk if "D" not in p.get("flags", "")]
        dts = [num(p.get("dts_time")) for p in pk]
        out["video"]["dts_monotonic"] = all(a is not None and b is not None and b > a
                                            for a, b in zip(dts, dts[1:]))
        allpts = [num(p.get("pts_time")) for p in pk]
        out["video"]["pts_unique"] = None not in allpts and len(set(allpts)) == len(allpts)
        pts = [num(p.get("pts_time")) for p in pk]
        ends = [t + (num(p.get("duration_time")) or 0) for t, p in zip(pts, pk) if t is not None]
        known = [t for t in pts if t is not None]
        out["video"]["packets"] = len(pk)
        out["video"]["pkt_start"] = min(known) if known else None
        out["video"]["pkt_end"] = max(ends) if ends else None
        out["video"]["pkt_zero_dur"] = sum(1 for p in pk if not num(p.get("duration_time")))
    if aus:
        a = aus[0]
        out["audio"] = {
            "codec": a.get("codec_name"),
            "channels": int(a.get("channels", 0) or 0),
            "sample_rate": int(a.get("sample_rate", 0) or 0),
            "duration": num(a.get("duration")),
        }
    return out


def src_duration(path):
    """The source video measured from its decoded frames: (duration, frames, regular).
    Duration: end of the last frame - first frame, where a frame lasts its packet
    duration, or 1/r_frame_rate when that is unknown. regular: frames evenly spaced
    (a constant frame rate source). Cached in $PROBE_CACHE when set."""
    cache = None
    if os.environ.get("PROBE_CACHE"):
        st_ = os.stat(path)
        key = "%s|%d|%d" % (os.path.abspath(path), st_.st_size, int(st_.st_mtime))
        cache = os.path.join(os.environ["PROBE_CACHE"], "srcdur.json")
        try:
            with open(cache) as f:
                c = json.load(f)
            if key in c:
                return tuple(c[key])
        except (OSError, ValueError):
            pass
    # (One ffprobe for the rate and the frames: each start costs 0.1-0.2 s of CPU.)
    d = ffprobe_json(["-select_streams", "v:0", "-show_entries",
                      "stream=r_frame_rate:frame=best_effort_timestamp_time,pkt_duration_time", path])
    fr = ratio(d["streams"][0].get("r_frame_rate")) if d.get("streams") else None
    start, end, ts = None, None, []
    frames = d.get("frames", [])
    for f in frames:
        t = num(f.get("best_effort_timestamp_time"))
        if t is None:
            continue
        dur = num(f.get("pkt_duration_time"))
        if not dur or dur <= 0:
            dur = float(1 / fr) if fr else 0
        ts.append(t)
        start = t if start is None else min(start, t)
        end = t + dur if end is None else max(end, t + dur)
    if start is None:
        raise RuntimeError("no decodable video frame in " + path)
    ts.sort()
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    regular = bool(gaps) and min(gaps) > 0 and max(gaps) <= min(gaps) * 1.02 + 0.0015
    res = (end - start, len(frames), regular)
    if cache:
        try:
            with open(cache) as f:
                c = json.load(f)
        except (OSError, ValueError):
            c = {}
        c[key] = res
        tmp = cache + ".%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump(c, f)
        os.replace(tmp, cache)
    return res


def decode_errors(path):
    # -enc_time_base -1: keep the file's own time base, so that ffmpeg's null
    # muxer does not complain about VFR frames closer than 1/r_frame_rate.
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path,
                        "-enc_time_base", "-1", "-f", "null", "-"],
                       capture_output=True, text=True)
    msg = p.stderr.strip()
    if p.returncode != 0 or msg:
        return "rc=%d %s" % (p.returncode, msg.replace("\n", " | ")[:300])
    return None


def norm_rot(r):
    return int(r) % 360


def cmd_check(a):
    errs = []

    def e(msg):
        errs.append(msg)

    out, target = a.out, int(a.target)
    if not os.path.isfile(out):
        print("no output file %s" % out)
        return 1
    size = os.path.getsize(out)
    if size > target:
        e("size %d > target %d" % (size, target))
    if a.fill and size < a.fill * target:
        # Unfilled is only right when there is nothing left to spend bytes on:
        # the picture is already near-lossless (a still card, a static screen).
        # FFmpeg's psnr filter, at the output's size, says whether it is.
        lossless = False
        if a.src:
            w, h = (int(x) for x in subprocess.run(
                ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                 "-of", "csv=p=0", out], capture_output=True, text=True,
                stdin=subprocess.DEVNULL).stdout.strip().split(",")[:2])
            r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", a.src, "-i", out, "-lavfi",
                                "[0:v]setpts=PTS-STARTPTS,scale=%d:%d:flags=area[r];[1:v]setpts=PTS-STARTPTS[d];"
                                "[r][d]psnr" % (w, h), "-f", "null", "-"], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL).stderr
            m = re.search(r"PSNR y:([0-9.]+|inf)", r)
            lossless = bool(m) and (m.group(1) == "inf" or float(m.group(1)) >= 50)
        if not lossless:
            e("size %d is %.1f%% of target %d (< %.0f%%)" % (size, 100.0 * size / target, target, 100 * a.fill))

    js = None
    if a.json:
        try:
            js = load_one_json(a.json)
        except (ValueError, UnicodeDecodeError, OSError) as ex:
            e("--json output is not one JSON object: %s" % ex)
    try:
        o = info(out)
    except (RuntimeError, ValueError) as ex:
        print("ffprobe cannot open the output: %s" % ex)
        return 1
    v = o["video"]
    if not v:
        print("no video stream in the output")
        return 1
    if a.container not in (o["format"] or "").split(","):
        e("container is %s, not %s" % (o["format"], a.container))
    # Without --vcodec: --codec auto may pick any encoder the format takes;
    # the file's codec must then be one of those, and what the JSON says.
    if a.vcodec == "any":
        allowed = {"mp4": ("h264", "hevc", "av1"), "mov": ("h264", "hevc"), "matroska": ("h264", "hevc", "av1", "vp9"),
                   "webm": ("av1", "vp9")}.get(a.container, ("h264", "hevc", "av1", "vp9"))
        if v["codec"] not in allowed:
            e("video codec %s, not one of %s" % (v["codec"], "/".join(allowed)))
    elif v["codec"] != a.vcodec:
        e("video codec %s, not %s" % (v["codec"], a.vcodec))
    err = decode_errors(out)
    if err:
        e("ffmpeg decode reported errors: %s" % err)
    if v["width"] % 2 or v["height"] % 2:
        e("odd dimensions %dx%d" % (v["width"], v["height"]))
    if o["n_video"] != 1:
        e("%d video streams" % o["n_video"])
    if o["n_audio"] > 1:
        e("%d audio streams" % o["n_audio"])

    fps = None
    if js is not None:
        for k in ("input", "output", "target", "bytes", "ratio", "codec", "width", "height", "fps",
                  "duration", "audio", "video_bitrate", "attempts", "seconds", "error"):
            if k not in js:
                e("JSON lacks key %s" % k)
        if js.get("error") is not None:
            e("JSON error is %r" % js.get("error"))
        if "min_bytes" in js:
            e("JSON has min_bytes on success")
        if js.get("bytes") != size:
            e("JSON bytes %r != file size %d" % (js.get("bytes"), size))
        if js.get("target") != target:
            e("JSON target %r != %d" % (js.get("target"), target))
        if isinstance(js.get("ratio"), (int, float)) and abs(js["ratio"] - size / target) > 0.0001:
            e("JSON ratio %r != bytes/target %.4f" % (js["ratio"], size / target))
        if a.expect_output and js.get("output") != a.expect_output:
            e("JSON output %r != %r" % (js.get("output"), a.expect_output))
        if js.get("codec") != v["codec"]:
            e("JSON codec %r, the file's is %s" % (js.get("codec"), v["codec"]))
        if (js.get("width"), js.get("height")) != (v["width"], v["height"]):
            e("JSON size %sx%s != stream %dx%d" % (js.get("width"), js.get("height"), v["width"], v["height"]))
        ja = js.get("audio")
        if (ja is None) != (o["audio"] is None):
            e("JSON audio %s but the file has %s" % (json.dumps(ja), "an audio stream" if o["audio"] else "no audio stream"))
        if ja is not None and o["audio"] is not None:
            if ja.get("codec") != o["audio"]["codec"]:
                e("JSON audio codec %r != stream %r" % (ja.get("codec"), o["audio"]["codec"]))
            if ja.get("channels") != o["audio"]["channels"]:
                e("JSON audio channels %r != stream %r" % (ja.get("channels"), o["audio"]["channels"]))
            if not isinstance(ja.get("bitrate"), int) or ja["bitrate"] <= 0:
                e("JSON audio bitrate %r" % ja.get("bitrate"))
        if isinstance(js.get("fps"), (int, float)) and js["fps"] > 0:
            fps = float(js["fps"])
        else:
            e("JSON fps %r" % js.get("fps"))
    if o["audio"] is not None and o["audio"]["codec"] != "opus":
        e("audio codec %s, not opus" % o["audio"]["codec"])
    if a.audio == "yes" and o["audio"] is None:
        e("expected an audio stream, found none")
    if a.audio == "no" and o["audio"] is not None:
        e("expected no audio stream, found %s" % o["audio"]["codec"])
    if a.channels and o["audio"] is not None and o["audio"]["channels"] != a.channels:
        e("audio has %d channels, expected %d" % (o["audio"]["channels"], a.channels))
    if fps is None:
        fps = float(ratio(v["r_frame_rate"]) or 25)

    # Durations: against the source video, measured from its decoded frames.
    frame = 1.0 / fps
    src_dur, src_frames, src_regular = src_duration(a.src)
    tol_v = frame + EPS
    tol_f = (max(frame, 0.12) if o["audio"] is not None else frame) + EPS
    if o["duration"] is None:
        e("output has no duration")
    elif abs(o["duration"] - src_dur) > tol_f:
        e("duration %.3f s vs source %.3f s (off by %.3f > %.3f)" % (o["duration"], src_dur,
                                                                      o["duration"] - src_dur, tol_f))
    mkv = "matroska" in (o["format"] or "")
    # Matroska keeps no dts: with B-frames ffprobe's guesses are not monotonic.
    if not v["dts_monotonic"] and not mkv:
        e("video dts not strictly increasing")
    if not v["pts_unique"]:
        e("video pts missing or repeated")
    # The stream's own duration (stts + edit list); the packet walk misses the
    # last frame's duration, which the mov demuxer does not always report.
    vdur = v["duration"]
    if vdur is None and v["pkt_start"] is not None and v["pkt_end"] is not None:
        vdur = v["pkt_end"] - v["pkt_start"]
    if vdur is None:
        e("video stream has no duration")
    else:
        if abs(vdur - src_dur) > tol_v:
            e("video stream lasts %.3f s vs source %.3f s (off by %.3f > %.3f)" % (vdur, src_dur,
                                                                                    vdur - src_dur, tol_v))
    # Matroska shifts every stream by Opus's pre-skip (6.5 ms, as ffmpeg does),
    # so that the audio's first block is not negative.
    start_tol = 0.0075 if mkv and o["audio"] is not None else EPS
    if v["pkt_start"] is not None and v["pkt_start"] > start_tol:
        e("video starts at %.3f s, not 0" % v["pkt_start"])
    if js is not None and isinstance(js.get("duration"), (int, float)):
        if abs(js["duration"] - src_dur) > tol_v:
            e("JSON duration %.3f vs source %.3f" % (js["duration"], src_dur))
        # A constant-rate source gives fps*duration frames; a variable-rate one
        # (gaps, duplicate timestamps) at most that many.
        expect_frames = fps * js["duration"]
        if src_regular and abs(v["packets"] - expect_frames) > 2:
            e("%d video frames, JSON fps*duration = %.4g*%.3f = %.1f" % (v["packets"], fps, js["duration"], expect_frames))
        if not src_regular and v["packets"] > expect_frames + 2:
            e("%d video frames from a VFR source, more than JSON fps*duration = %.1f" % (v["packets"], expect_frames))
        if v["packets"] > src_frames:
            e("%d video frames, more than the source's %d" % (v["packets"], src_frames))

    if a.rotation is not None and norm_rot(v["rotation"]) != norm_rot(a.rotation):
        e("display rotation %d, expected %d" % (v["rotation"], a.rotation))
    if a.portrait and not v["width"] < v["height"]:
        e("not portrait: %dx%d" % (v["width"], v["height"]))
    if a.dar_of:
        si = info(a.dar_of)["video"]
        if si and si["dar"] and v["dar"]:
            if abs(v["dar"] / si["dar"] - 1) > a.dar_tol:
                e("display aspect %.4f (%dx%d sar %s) vs source %.4f (%dx%d sar %s)" % (
                    v["dar"], v["width"], v["height"], v["sar"], si["dar"], si["width"], si["height"], si["sar"]))
    for m in errs:
        print(m)
    return 1 if errs else 0


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "json_get" and len(rest) == 2:
        return cmd_json_get(rest[0], rest[1])
    if cmd == "info" and len(rest) == 1:
        print(json.dumps(info(rest[0]), sort_keys=True))
        return 0
    if cmd == "srcdur" and len(rest) == 1:
        d, n, reg = src_duration(rest[0])
        print("%.6f %d %s" % (d, n, "regular" if reg else "irregular"))
        return 0
    if cmd == "check":
        p = argparse.ArgumentParser(prog="probe.py check")
        p.add_argument("out")
        p.add_argument("src")
        p.add_argument("target")
        p.add_argument("--json", default="", help="shrink's --json stdout")
        p.add_argument("--fill", type=float, default=0.0, help="minimum size/target")
        p.add_argument("--audio", choices=("yes", "no", "any"), default="any")
        p.add_argument("--channels", type=int, default=0)
        p.add_argument("--expect-output", default="")
        p.add_argument("--rotation", type=int, default=None)
        p.add_argument("--vcodec", default="any", help="ffprobe's codec_name of the video (default: any the container takes)")
        p.add_argument("--container", default="mp4", help="one of ffprobe's format_name words")
        p.add_argument("--portrait", action="store_true")
        p.add_argument("--dar-of", default="")
        p.add_argument("--dar-tol", type=float, default=0.03)
        a = p.parse_args(rest)
        try:
            return cmd_check(a)
        except Exception as ex:  # a crash in the checker is a failed check, with a reason
            print("checker error: %s: %s" % (type(ex).__name__, ex))
            return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
